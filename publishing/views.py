from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from publishing.models import SandboxPost


def sandbox_post(request: HttpRequest, handle: str, post_id: int) -> HttpResponse:
    """A sandbox post as it went out, with the thread it belongs to."""
    post = (
        SandboxPost.objects.select_related("account", "in_reply_to")
        .filter(pk=post_id, account__handle=handle)
        .first()
    )
    if post is None:
        raise Http404("No such sandbox post.")
    thread = [post]
    while thread[0].in_reply_to is not None:
        thread.insert(0, thread[0].in_reply_to)
    while (reply := thread[-1].replies.order_by("pk").first()) is not None:
        thread.append(reply)
    return render(request, "sandbox/post.html", {"post": post, "thread": thread})


def health(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
