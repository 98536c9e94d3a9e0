from django.contrib import admin

from matching.models import MatcherModel, MatchRun, MatchSuggestion, MatchSuggestionMember, TrainingLabel


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


class MatchSuggestionMemberInline(admin.TabularInline):
    model = MatchSuggestionMember
    extra = 0
    raw_id_fields = ["party"]


@admin.register(MatchSuggestion)
class MatchSuggestionAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "status", "score", "created_at"]
    list_filter = ["status"]
    inlines = [MatchSuggestionMemberInline]
    readonly_fields = ["run", "score", "evidence", "created_at"]


@admin.register(MatchRun)
class MatchRunAdmin(admin.ModelAdmin):
    list_display = ["id", "status", "full", "parties_blocked", "candidate_pairs", "pairs_kept",
                    "clusters", "created_at", "finished_at"]
    list_filter = ["status"]
    readonly_fields = [f.name for f in MatchRun._meta.fields]
