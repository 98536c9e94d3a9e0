from django.contrib import admin

from matching.models import MatcherModel, TrainingLabel


@admin.register(TrainingLabel)
class TrainingLabelAdmin(admin.ModelAdmin):
    list_display = ["record_a", "record_b", "label", "origin", "labelled_by", "labelled_at"]
    list_filter = ["label", "origin"]
    raw_id_fields = ["record_a", "record_b"]
    list_select_related = ["record_a", "record_b", "labelled_by"]


@admin.register(MatcherModel)
class MatcherModelAdmin(admin.ModelAdmin):
    list_display = ["id", "labels_match", "labels_distinct", "training_seconds", "trained_at",
                    "is_active"]
    exclude = ["settings_blob"]  # pickled dedupe settings: never shown, never uploaded
    readonly_fields = ["labels_match", "labels_distinct", "training_seconds", "trained_at",
                       "trained_by"]
