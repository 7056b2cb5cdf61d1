"""The last day's deliveries as a small server-rendered SVG bar chart: four bars an hour
(triggers, resolves, failures, retries), no script and no build step. This module only
does the geometry; `_activity_chart.html` draws it."""

from dataclasses import dataclass

from rbtk.outbox.activity import Hour

WIDTH, HEIGHT = 720, 150
LEFT, BOTTOM, TOP = 34, 20, 8
SERIES = (  # (field, label, CSS class)
    ("triggers", "triggers", "bar-trigger"),
    ("resolves", "resolves", "bar-resolve"),
    ("failures", "failures", "bar-failure"),
    ("retries", "retries", "bar-retry"),
)


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css: str
    label: str  # "14:00 UTC: 12 triggers"


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    ticks: list[tuple[float, str]]  # (x, "06:00") under the hours
    top: int  # the value at the top of the scale
    totals: dict[str, int]  # per series over the day
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    base: int = HEIGHT - BOTTOM  # y of zero

    @property
    def summary(self) -> str:
        said = ", ".join(f"{count:,} {name}" for name, count in self.totals.items())
        return f"Last 24 hours, per hour: {said}"


def chart(hours: list[Hour]) -> Chart:
    top = max((getattr(h, field) for h in hours for field, _, _ in SERIES), default=0) or 1
    slot = (WIDTH - LEFT) / max(len(hours), 1)
    width = (slot - 4) / len(SERIES)
    scale = (HEIGHT - BOTTOM - TOP) / top
    bars, ticks = [], []
    for index, hour in enumerate(hours):
        x0 = LEFT + index * slot + 2
        when = hour.start.strftime("%H:00")
        if hour.start.hour % 6 == 0:
            ticks.append((x0 + (slot - 4) / 2, when))
        for n, (field, name, css) in enumerate(SERIES):
            value = getattr(hour, field)
            if value:
                height = max(value * scale, 1.5)  # one is still visible
                y = HEIGHT - BOTTOM - height
                bars.append(
                    Bar(
                        x0 + n * width, y, width - 0.5, height, css, f"{when} UTC: {value:,} {name}"
                    )
                )
    totals = {name: sum(getattr(h, field) for h in hours) for field, name, _ in SERIES}
    return Chart(bars, ticks, top, totals)
