"""Parties, contact points, source systems, imports and merges over the API."""

from __future__ import annotations

from django.db.models import OuterRef, Prefetch, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.filters import OrderingFilter
from rest_framework.response import Response

from c360.kernel.api import FormParser, IdCursorPagination, JSONField, MultiPartParser, has_perms
from c360.kernel.params import BadParameter, parse_text
from parties.api.filters import ImportApiFilter, MergeApiFilter, PartyApiFilter
from parties.api.serializers import (
    ContactPointChange,
    ContactPointIn,
    ContactPointOut,
    DeactivateIn,
    ImportIn,
    ImportJobOut,
    PartyDetail,
    PartySummary,
    ReportRow,
    SourceSystemOut,
)
from parties.extensions import import_kinds_for, party_api_parts
from parties.models import (
    ContactPointEmail,
    ContactPointPhone,
    EventKind,
    ImportJob,
    Party,
    PartyEvent,
    SourceRecord,
    SourceSystem,
)
from parties.selectors_imports import import_report_rows
from parties.services import contact_points as cp
from parties.services.merge import AlreadyHandled, MergeRefused, party_unmerge


def _primary(model):
    return Subquery(
        model.objects.filter(party=OuterRef("pk"), is_active=True)
        .order_by("-is_primary", "pk")
        .values("normalized")[:1]
    )


class PartyViewSet(viewsets.ReadOnlyModelViewSet):
    """Golden records. Lists page by cursor (ordered by id: rows added between pages are
    neither missed nor repeated); ``updated_since`` gives what changed for incremental sync."""

    lookup_value_regex = "[0-9]+"  # ids in digits 0-9 only (\d would read "٣" as 3): else a 404

    pagination_class = IdCursorPagination
    filterset_class = PartyApiFilter
    filter_backends = [DjangoFilterBackend, OrderingFilter]
    ordering_fields = ["id"]  # ids only: a cursor over a changing column could skip or repeat rows
    permission_classes = [has_perms("parties.view_party")]

    def get_queryset(self):
        if self.action == "list":
            return Party.objects.annotate(
                primary_email=_primary(ContactPointEmail), primary_phone=_primary(ContactPointPhone)
            )
        return Party.objects.prefetch_related(
            "emails",
            "phones",
            "addresses",
            "socials",
            "identifications",
            "memberships",
            "merged_parties",
            Prefetch("source_records", queryset=SourceRecord.objects.select_related("source_system")),
            *(lookup for part in party_api_parts() for lookup in part.prefetch()),
        )

    def get_serializer_class(self):
        return PartySummary if self.action == "list" else PartyDetail

    @extend_schema(
        parameters=[
            OpenApiParameter("source_system", str, required=True, description="The source system's name."),
            OpenApiParameter(
                "source_key", str, required=True, description="The record's key in that system."
            ),
        ],
        responses=PartyDetail,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def lookup(self, request):
        """The party holding a source system's record (a merged party answers with its
        ``survivor``)."""
        errors, asked = {}, {}
        for name in ("source_system", "source_key"):
            try:  # a NUL or an overlong key: a 400 naming it (PostgreSQL refuses a NUL in text)
                asked[name] = parse_text(
                    request.query_params.get(name), name=name, max_length=255, required=True
                )
            except BadParameter as exc:
                errors[name] = [exc.problem]
        if errors:
            raise ValidationError(errors)
        record = (
            SourceRecord.objects.filter(
                source_system__name__iexact=asked["source_system"], source_key=asked["source_key"]
            )
            .only("party_id")
            .first()
        )
        if record is None:
            raise Http404(f"No record {asked['source_key']!r} in source system {asked['source_system']!r}.")
        party = self.get_queryset().get(pk=record.party_id)
        return Response(self.get_serializer(party).data)

    @extend_schema(request=ContactPointIn, responses={201: ContactPointOut})
    @action(
        detail=True, methods=["post"], url_path="contact-points", filter_backends=[], pagination_class=None
    )
    def contact_points(self, request, pk=None):
        """Add an email address or phone number, standardized and validated like an import."""
        data = ContactPointIn(data=request.data)
        data.is_valid(raise_exception=True)
        kind = data.validated_data["kind"]
        if not request.user.has_perm(f"parties.add_contactpoint{kind}"):
            raise PermissionDenied(f"Your role may not add {kind} contact points.")
        get_object_or_404(Party, pk=pk)
        point = cp.contact_point_add(party_id=int(pk), actor=request.user, **data.validated_data)
        return Response(ContactPointOut(point).data, status=status.HTTP_201_CREATED)


class ContactPointViewSet(viewsets.GenericViewSet):
    """Correct, verify or deactivate one email address or phone number (never deleted)."""

    permission_classes = [has_perms("parties.view_party")]
    serializer_class = ContactPointChange
    lookup_value_regex = "[0-9]+"

    def _point(self, kind: str, pk: str, perm: str):
        if kind not in cp.MODELS:
            raise Http404(f"{kind!r} is not a contact point kind (email or phone).")
        if not self.request.user.has_perm(f"parties.{perm}_contactpoint{kind}"):
            raise PermissionDenied(f"Your role may not change {kind} contact points.")
        return get_object_or_404(cp.MODELS[kind], pk=pk)

    @extend_schema(
        request=ContactPointChange,
        responses=ContactPointOut,
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=["email", "phone"])],
    )
    def partial_update(self, request, kind: str, pk: str):
        point = self._point(kind, pk, "change")
        data = ContactPointChange(data=request.data)
        data.is_valid(raise_exception=True)
        if "value" in data.validated_data:
            point = cp.contact_point_correct(
                kind=kind,
                point_id=point.pk,
                value=data.validated_data["value"],
                region=data.validated_data["region"],
                actor=request.user,
            )
        if data.validated_data.get("verified"):
            point = cp.contact_point_verify(kind=kind, point_id=point.pk, actor=request.user)
        return Response(ContactPointOut(point).data)

    @extend_schema(
        request=DeactivateIn,
        responses=ContactPointOut,
        parameters=[OpenApiParameter("kind", str, OpenApiParameter.PATH, enum=["email", "phone"])],
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, kind: str, pk: str):
        point = self._point(kind, pk, "change")
        data = DeactivateIn(data=request.data)
        data.is_valid(raise_exception=True)
        point = cp.contact_point_deactivate(
            kind=kind, point_id=point.pk, actor=request.user, reason=data.validated_data["reason"]
        )
        return Response(ContactPointOut(point).data)


class SourceSystemViewSet(viewsets.ReadOnlyModelViewSet):
    lookup_value_regex = "[0-9]+"  # ids in digits 0-9 only (\d would read "٣" as 3): else a 404
    queryset = SourceSystem.objects.all()
    serializer_class = SourceSystemOut
    pagination_class = IdCursorPagination
    permission_classes = [has_perms("parties.view_sourcesystem")]
    filter_backends: list = []


class UploadTooLarge(ValidationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE


def _may_run(user, job: ImportJob) -> bool:
    """Whether ``user`` may start (and so preview) ``job``: as on the import pages."""
    from parties.extensions import import_kind_get

    if user.has_perm("parties.add_importjob"):
        return True
    try:
        kind = import_kind_get(job.kind)
    except KeyError:
        return False
    return kind.permission != "parties.add_importjob" and user.has_perm(kind.permission)


class DryRunIn(serializers.Serializer):
    mapping = JSONField(
        required=False,
        help_text="Target field → list of file columns; without it, the draft's mapping (which the "
        "draft then keeps).",
    )


class DryRunOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.SerializerMethodField(help_text="none, queued, running, succeeded or failed")
    nothing_written = serializers.SerializerMethodField()
    report = serializers.JSONField(
        source="dry_run_report",
        help_text="rows_read, created, updated, unchanged, rejected, issues, rejections (the first 20: "
        "line, column, value, reason), new_customers, matcher (assessed, auto_merge, review, alone or "
        "reason), mapping, seconds, error.",
    )

    def get_status(self, job) -> str:
        return job.dry_run_status or "none"

    def get_nothing_written(self, job) -> bool:
        return True


class ImportViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Upload a file to start an import job; read its status and its error report."""

    lookup_value_regex = "[0-9]+"  # ids in digits 0-9 only (\d would read "٣" as 3): else a 404

    serializer_class = ImportJobOut
    pagination_class = IdCursorPagination
    filterset_class = ImportApiFilter
    permission_classes = [has_perms("parties.view_importjob")]
    parser_classes = [
        MultiPartParser,
        FormParser,
    ]  # an upload is a file (c360.kernel.api's: no NUL in fields)

    def get_permissions(self):
        # Administrators and stewards see every job; anyone else the jobs of the kinds they may
        # import (marketing: consent lists), as on the import pages.
        return [has_perms()()]

    def _own_kinds(self) -> list[str] | None:
        """The kinds of job the user may see; None: all of them."""
        user = self.request.user
        if user.has_perm("parties.view_importjob"):
            return None
        kinds = [k.name for k in import_kinds_for(user) if k.permission != "parties.add_importjob"]
        if not kinds and self.action != "create":
            raise PermissionDenied("Your role may not see import jobs.")
        return kinds

    def get_queryset(self):
        jobs = ImportJob.objects.select_related("source_system").order_by("pk")
        if getattr(self, "swagger_fake_view", False):  # the schema generator asks without a user
            return jobs.none()
        kinds = self._own_kinds()
        return jobs if kinds is None else jobs.filter(kind__in=kinds)

    @extend_schema(request={"multipart/form-data": ImportIn}, responses={201: ImportJobOut})
    def create(self, request, *args, **kwargs):
        from django.core.exceptions import PermissionDenied as Refused

        from parties.services.imports.jobs import ImportJobError
        from parties.services.imports.mapping import MappingError
        from parties.services.imports.readers import ImportFileError
        from parties.services.imports.submit import ImportKindError, import_submit

        data = ImportIn(data=request.data)  # reading the body runs the upload size limit
        refused = getattr(request, "upload_refused", "")
        if refused:  # rather than "No file was submitted": the file was, and was too large
            raise UploadTooLarge({"file": [refused]})
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        try:
            job = import_submit(
                stream=upload,
                original_name=upload.name,
                source=data.validated_data["source_system"],
                kind=data.validated_data["kind"],
                user=request.user,
                start=True,
                mapping=data.validated_data.get("mapping"),
            )
        except ImportKindError as exc:
            raise ValidationError({"kind": [str(exc)]}) from None
        except Refused as exc:
            raise PermissionDenied(str(exc)) from None
        except ImportFileError as exc:
            raise ValidationError({"file": [f"{exc} Nothing was imported."]}) from None
        except MappingError as exc:
            raise ValidationError({"mapping": [str(exc)]}) from None
        except ImportJobError as exc:  # the source system (deactivated since the input was read)
            raise ValidationError({"source_system": [str(exc)]}) from None
        return Response(
            ImportJobOut(job, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        methods=["POST"],
        request={"multipart/form-data": DryRunIn},
        responses={202: DryRunOut},
        description="Preview (dry run) a job waiting for its mapping: the file is imported in a "
        "transaction that is rolled back, so nothing is written; the report says how many rows would "
        "create, update, leave unchanged or be rejected, and what the matcher would do with the new "
        "customers. The same permission as starting an import.",
    )
    @extend_schema(methods=["GET"], responses={200: DryRunOut})
    @action(
        detail=True, methods=["get", "post"], url_path="dry-run", url_name="dry-run", pagination_class=None
    )
    def dry_run(self, request, pk=None):
        """The job's preview: POST queues it (a draft only), GET reads its status and report."""
        import json

        from parties.services.imports.dry_run import import_job_dry_run_request
        from parties.services.imports.jobs import ImportJobError
        from parties.services.imports.mapping import MappingError

        job = self.get_object()
        if not _may_run(request.user, job):
            raise PermissionDenied(f"Your role may not import or preview import #{job.pk} ({job.kind}).")
        if request.method == "GET":
            return Response(DryRunOut(job).data)
        data = DryRunIn(data=request.data)
        data.is_valid(raise_exception=True)
        mapping = data.validated_data.get("mapping")
        if isinstance(mapping, str):
            try:
                mapping = json.loads(mapping)
            except ValueError:
                raise ValidationError(
                    {"mapping": ["not JSON: give an object of field → list of columns"]}
                ) from None
        try:
            job = import_job_dry_run_request(job=job, mapping=mapping)
        except MappingError as exc:
            raise ValidationError({"mapping": [str(exc)]}) from None
        except ImportJobError as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from None
        return Response(DryRunOut(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=ReportRow(many=True))
    @action(detail=True, methods=["get"], pagination_class=None)
    def errors(self, request, pk=None):
        """The job's error report: rejected rows and values kept as received, with line and column."""
        job = self.get_object()
        rows = [
            dict(zip(["line", "column", "value", "reason", "outcome"], row, strict=True))
            for row in import_report_rows(job=job)
        ]
        return Response(ReportRow(rows, many=True).data)


class MergeOut(serializers.ModelSerializer):
    survivor = serializers.IntegerField(source="party_id")
    parties = serializers.SerializerMethodField()
    undone = serializers.SerializerMethodField()

    class Meta:
        model = PartyEvent
        fields = [
            "id",
            "kind",
            "survivor",
            "parties",
            "actor_label",
            "suggestion_id",
            "score",
            "reason",
            "created_at",
            "undone",
        ]

    def get_parties(self, event) -> list[int]:
        return sorted(p.pk for p in event.parties.all())

    def get_undone(self, event) -> bool:
        return hasattr(event, "reverted_by")


class UnmergeIn(serializers.Serializer):
    different_customers = serializers.BooleanField(
        required=True,
        help_text="Required. true: the parties are different customers (recorded as not a match: "
        "not suggested together again unless their data changes); false: undo for now (nothing "
        "recorded: the next match run may suggest them together again).",
    )
    reason = serializers.CharField(max_length=500, required=False, default="")


class MergeViewSet(viewsets.ReadOnlyModelViewSet):
    """Merges (manual and automatic), newest last; undo one with ``unmerge``."""

    lookup_value_regex = "[0-9]+"  # ids in digits 0-9 only (\d would read "٣" as 3): else a 404

    serializer_class = MergeOut
    pagination_class = IdCursorPagination
    filterset_class = MergeApiFilter
    permission_classes = [has_perms("parties.view_partyevent")]

    def get_queryset(self):
        return (
            PartyEvent.objects.filter(kind__in=[EventKind.MERGE, EventKind.AUTO_MERGE])
            .prefetch_related("parties")
            .select_related("reverted_by")
        )

    @extend_schema(request=UnmergeIn, responses=MergeOut)
    @action(detail=True, methods=["post"], permission_classes=[has_perms("parties.merge_party")])
    def unmerge(self, request, pk=None):
        """Undo the merge: the parties come back as they were. ``different_customers`` (required)
        says whether they are recorded as not a match (true) or may be suggested again (false)."""
        merge = self.get_object()
        data = UnmergeIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            party_unmerge(
                event_id=merge.pk,
                actor=request.user,
                reason=data.validated_data["reason"],
                different_customers=data.validated_data["different_customers"],
            )
        except AlreadyHandled as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except MergeRefused as exc:
            raise ValidationError({"non_field_errors": [str(exc)]}) from None
        return Response(MergeOut(self.get_queryset().get(pk=merge.pk)).data)
