"""factory_boy factories for the Customer 360 model."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from parties import models as m


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
        self.save()


class SourceSystemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.SourceSystem
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Source {n}")
    kind = m.SourceKind.CRM
    trust_rank = 10


class PartyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.Party

    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    display_name = factory.LazyAttribute(lambda p: f"{p.given_name} {p.family_name}")


class SourceRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.SourceRecord

    source_system = factory.SubFactory(SourceSystemFactory)
    source_key = factory.Sequence(lambda n: f"K{n:06d}")
    party = factory.SubFactory(PartyFactory)
    raw_payload = factory.LazyAttribute(lambda r: {"source_key": r.source_key})
    standardized = factory.LazyFunction(dict)
    content_hash = "0" * 64
    first_seen_at = factory.LazyFunction(timezone.now)
    last_seen_at = factory.LazyFunction(timezone.now)


class EmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = m.ContactPointEmail

    party = factory.SubFactory(PartyFactory)
    raw_value = factory.Sequence(lambda n: f"Person{n}@Example.com")
    normalized = factory.LazyAttribute(lambda e: e.raw_value.lower())
