from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "notes"
    verbose_name = "Clinical notes"

    def ready(self) -> None:
        from notes.models import Note
        from notes.timeline import fetch_note_items
        from patients.dependents import register_patient_dependent
        from patients.timeline import register_timeline_source

        register_patient_dependent(
            "notes",
            singular="clinical note",
            plural="clinical notes",
            count=lambda patient: Note.objects.filter(patient=patient).count(),
        )
        register_timeline_source("note", fetch_note_items)
