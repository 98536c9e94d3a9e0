from django.contrib import admin

from matching.models import (
    MatcherModel,
    MatchRun,
    MatchRunChunk,
    MatchSettings,
    MatchSuggestion,
    MatchSuggestionMember,
    OversizedBlock,
    PairDecision,
    TrainingLabel,
)


@admin.register(TrainingLabel)
class TrainingLabelAdmin(admin.ModelAdmin):
    list_display = ["record_a", "record_b", "label", "origin", "labelled_by", "labelled_at"]
    list_filter = ["label", "origin"]
    raw_id_fields = ["record_a", "record_b"]
    list_select_related = ["record_a", "record_b", "labelled_by"]


@admin.register(MatcherModel)
class MatcherModelAdmin(admin.ModelAdmin):
    list_display = ["id", "labels_match", "labels_distinct", "training_seconds", "trained_at", "is_active"]
    exclude = ["settings_blob"]  # pickled dedupe settings: never shown, never uploaded
    # activation goes through the training page's rollback (one active model at a time)
    readonly_fields = [
        "labels_match",
        "labels_distinct",
        "training_seconds",
        "trained_at",
        "trained_by",
        "is_active",
    ]

    def has_add_permission(self, request) -> bool:
        return False  # a model comes from training; an empty one (nothing here is editable) cannot be saved


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


class MatchRunChunkInline(admin.TabularInline):
    model = MatchRunChunk
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in MatchRunChunk._meta.fields]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(MatchRun)
class MatchRunAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "full",
        "phase",
        "parties_blocked",
        "candidate_pairs",
        "pairs_kept",
        "clusters",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "full"]
    readonly_fields = [f.name for f in MatchRun._meta.fields]
    inlines = [MatchRunChunkInline]


@admin.register(PairDecision)
class PairDecisionAdmin(admin.ModelAdmin):
    list_display = ["party_a", "party_b", "decision", "is_active", "decided_by", "decided_at"]
    list_filter = ["decision", "is_active"]
    raw_id_fields = ["party_a", "party_b", "suggestion"]
    readonly_fields = ["decided_at"]
    list_select_related = ["party_a", "party_b", "decided_by"]


@admin.register(MatchSettings)
class MatchSettingsAdmin(admin.ModelAdmin):
    list_display = ["review_threshold", "auto_merge_threshold", "updated_by", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def get_form(self, request, obj=None, **kwargs):
        from matching.forms import ThresholdsForm

        kwargs["form"] = ThresholdsForm  # the same checks as the thresholds page
        return super().get_form(request, obj, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        from matching.services.thresholds import match_settings_set

        if change and obj.pk == MatchSettings.current().pk:  # the row runs read: the service saves
            saved = match_settings_set(
                review_threshold=obj.review_threshold,
                auto_merge_threshold=obj.auto_merge_threshold,
                user=request.user,
            )
            obj.updated_by, obj.updated_at = saved.updated_by, saved.updated_at
            return
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(OversizedBlock)
class OversizedBlockAdmin(admin.ModelAdmin):
    list_display = ["block_key", "parties"]
    search_fields = ["block_key"]
    readonly_fields = ["block_key", "parties"]
