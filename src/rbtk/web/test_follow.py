"""The page a test send's form leads to while its row is not answered yet: the row's state,
refreshed until it is sent or failed (the request that queued it answered at once)."""

from fastapi import Request
from fastapi.responses import HTMLResponse

from rbtk.web.render import page


def follow_page(
    request: Request,
    *,
    title: str,
    back: str,
    back_label: str,
    log: str,
    delivery_id: int,
    status: str,
    error: str | None,
    final: bool,
    sent_text: str,
) -> HTMLResponse:
    """`error` is what went wrong or what it waits for; None once sent (`sent_text` then)."""
    text = sent_text if error is None else error
    return page(
        request,
        "test_follow.html",
        title=title,
        back=back,
        back_label=back_label,
        log=log,
        delivery_id=delivery_id,
        status=status,
        ok=error is None,
        final=final or error is None,
        text=text[:1].upper() + text[1:],  # the probes' lines begin in lower case
    )
