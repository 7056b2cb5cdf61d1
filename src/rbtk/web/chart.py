"""The last day's deliveries as a small server-rendered SVG bar chart: four bars an hour
(triggers, resolves, failures, retries), no script and no build step. This module only
does the geometry; `_activity_chart.html` draws it.

The SVG holds the bars alone and is stretched to the page's width, so its units are not
pixels; the labels around it are HTML, at the page's own font size on any screen."""

from dataclasses import dataclass

from rbtk.outbox.log.activity import Hour

WIDTH, HEIGHT = 720, 100  # the SVG's units
TOP = 4  # room above the tallest bar
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
    ticks: list[str]  # under each hour, oldest first: "06:00" every six hours, else ""
    top: int  # the value at the top of the scale
    totals: dict[str, int]  # per series over the day
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def summary(self) -> str:
        said = ", ".join(f"{count:,} {name}" for name, count in self.totals.items())
        return f"Last 24 hours, per hour: {said}"


def chart(hours: list[Hour]) -> Chart:
    top = max((getattr(h, field) for h in hours for field, _, _ in SERIES), default=0) or 1
    slot = WIDTH / max(len(hours), 1)
    width = (slot - 4) / len(SERIES)
    scale = (HEIGHT - TOP) / top
    bars, ticks = [], []
    for index, hour in enumerate(hours):
        x0 = index * slot + 2
        when = hour.start.strftime("%H:00")
        ticks.append(when if hour.start.hour % 6 == 0 else "")
        for n, (field, name, css) in enumerate(SERIES):
            value = getattr(hour, field)
            if value:
                height = max(value * scale, 1.5)  # one is still visible
                bars.append(
                    Bar(
                        x0 + n * width,
                        HEIGHT - height,
                        width - 0.5,
                        height,
                        css,
                        f"{when} UTC: {value:,} {name}",
                    )
                )
    totals = {name: sum(getattr(h, field) for h in hours) for field, name, _ in SERIES}
    return Chart(bars, ticks, top, totals)
