"""What a non-paging event says to a person: a title, a few fields, a link to Roboticks."""

from dataclasses import dataclass
from urllib.parse import quote

from rbtk.policy.events import (
    Event,
    EvidencePackGenerated,
    EvidencePackGenerationFailed,
    ReleasePublished,
    RunnerPoolOffline,
    RunnerPoolOnline,
    StandardAmendmentPublished,
    TestRunCompleted,
)
from rbtk.runtime.timefmt import format_rfc3339

MAX_FIELDS = 8
MAX_VALUE = 300


@dataclass(frozen=True)
class Message:
    title: str
    project: str
    event_type: str
    event_id: str
    occurred_at: str
    fields: list[tuple[str, str]]
    link: str
    link_label: str = "Open in Roboticks"  # rbtk's own messages link to its settings pages


def describe(event: Event, *, base_url: str) -> Message:
    data, project = event.data, event.project_slug
    title = f"{event.type} in {project}"
    match data:
        case TestRunCompleted():
            failing = [t.id for t in data.tests if t.status in ("failed", "error")]
            where = f"PR #{data.pull_request}" if data.pull_request is not None else data.branch
            title = f"Test run {data.run_id} {data.status} on {where}"
            if failing:
                title += f" ({len(failing)} failing)"
        case RunnerPoolOffline():
            title = f"Runner pool {data.pool_name} went offline"
        case RunnerPoolOnline():
            title = f"Runner pool {data.pool_name} is back online"
        case ReleasePublished():
            title = f"Release {data.tag} published on {data.branch}"
        case EvidencePackGenerationFailed():
            title = f"Evidence pack generation failed for {data.ref or 'a build'}"
        case EvidencePackGenerated():
            title = f"Evidence pack generated for {data.release_tag or data.ref}"
        case StandardAmendmentPublished():
            title = f"Standard {data.standard} amended ({data.amendment})"
    fields = [("Project", project), ("Event", event.type)]
    for name, value in data.model_dump(mode="json").items():
        if len(fields) >= MAX_FIELDS:
            break
        if value is None or isinstance(value, list | dict):
            continue
        fields.append((name.replace("_", " ").capitalize(), _short(str(value))))
    return Message(
        title=_short(title),
        project=project,
        event_type=event.type,
        event_id=event.id,
        occurred_at=format_rfc3339(event.occurred_at),
        fields=fields,
        link=f"{base_url.rstrip('/')}/r/{quote(project, safe='')}",
    )


def _short(text: str) -> str:
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"
