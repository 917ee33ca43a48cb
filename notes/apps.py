from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "notes"
    verbose_name = "Clinical notes"

    def ready(self) -> None:
        from notes.timeline import fetch_note_items
        from patients.timeline import register_timeline_source

        register_timeline_source("note", fetch_note_items)
