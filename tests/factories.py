from datetime import timedelta

import factory
import time_machine
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import Membership, SocialAccount, Workspace
from posts.models import Post, PostPart, Target
from publishing.models import PublishJob
from publishing.plans import schedule_once


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    is_staff = True
    password = factory.django.Password("correct horse battery staple")


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Brand {n}")
    slug = factory.Sequence(lambda n: f"brand-{n}")
    default_timezone = "Europe/Paris"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.OWNER


class SandboxAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SocialAccount

    workspace = factory.SubFactory(WorkspaceFactory)
    network = SocialAccount.Network.SANDBOX
    handle = factory.Sequence(lambda n: f"account{n}")
    external_id = factory.Sequence(lambda n: f"sandbox-{n}")
    display_name = factory.LazyAttribute(lambda account: account.handle.title())


class PostFactory(factory.django.DjangoModelFactory):
    """A post with parts (one per text) going to the given accounts."""

    class Meta:
        model = Post
        skip_postgeneration_save = True

    workspace = factory.SubFactory(WorkspaceFactory)

    @factory.post_generation
    def texts(post, create, extracted, **kwargs):
        for position, text in enumerate(extracted or ["Hello from Kairos"]):
            PostPart.objects.create(post=post, position=position, text=text)

    @factory.post_generation
    def accounts(post, create, extracted, **kwargs):
        for account in extracted or ():
            Target.objects.create(post=post, account=account)


class PublishJobFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PublishJob
        skip_postgeneration_save = True

    post = factory.SubFactory(PostFactory)
    account = factory.SubFactory(
        SandboxAccountFactory, workspace=factory.SelfAttribute("..post.workspace")
    )
    occurrence_at = factory.LazyFunction(lambda: timezone.now() - timedelta(seconds=1))
    due_at = factory.SelfAttribute("occurrence_at")
    next_attempt_at = factory.SelfAttribute("occurrence_at")

    @factory.post_generation
    def target(job, create, extracted, **kwargs):
        Target.objects.get_or_create(post=job.post, account=job.account)


def schedule_once_at(post: Post, at) -> None:
    """Schedule `post` once at the UTC instant `at`, as if booked an hour before."""
    with time_machine.travel(at - timedelta(hours=1)):
        schedule_once(
            post=post, local_date=at.date(), local_time=at.time(), timezone_name="UTC", actor=None
        )
