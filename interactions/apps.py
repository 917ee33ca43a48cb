from django.apps import AppConfig


class InteractionsConfig(AppConfig):
    name = "interactions"
    verbose_name = "Interactions"

    def ready(self) -> None:
        from interactions.timeline import interaction_items
        from patients.timeline import register_timeline_source

        register_timeline_source("interaction", interaction_items)
