from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "interactions"
    verbose_name = "Interactions"

    def ready(self) -> None:
        from interactions.models import Interaction
        from interactions.timeline import interaction_items
        from patients.dependents import register_patient_dependent
        from patients.timeline import register_timeline_source

        register_patient_dependent(
            "interactions",
            singular="interaction",
            plural="interactions",
            count=lambda patient: Interaction.objects.filter(patient=patient).count(),
        )
        register_timeline_source("interaction", interaction_items)
