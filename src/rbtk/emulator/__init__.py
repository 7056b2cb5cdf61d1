"""A PagerDuty emulator: a real HTTP server for tests, demos and air-gapped runs. It answers the
Events API v2 (and the Change Events API) and, over the same alerts, the REST API v2 subset
rbtk's reconcile and service checks read.

Start it with `running_emulator(EmulatorConfig(...))` (yields the base URL) or
`rbtk pd-emulator`. It answers as PagerDuty's Events API v2 is documented to:

    POST /v2/enqueue, POST /enqueue
        202 {"status": "success", "message": "Event processed", "dedup_key": "..."}
        400 {"status": "invalid event", "message": "Event object is invalid", "errors": [...]}
        429 {"status": "throttle exceeded",
             "message": "Requests for this service are arriving too quickly.  Please retry later."}
        Checked in this order: size (512000 bytes), JSON, fields, rate limit per routing key
        (sliding window; only accepted events count), then the alert is updated. A trigger
        without dedup_key gets a uuid4 hex one. Alerts are keyed by (routing_key, dedup_key):
        trigger opens or appends; acknowledge and resolve of a key with no open alert are
        dropped but still answered 202; a trigger after resolve opens a new alert.

Faults hit only the enqueue routes, before the checks above, in this order: `latency_ms`
delay, dropped connection (`drop_next`, then the `drop_connections` fraction), forced 429
(`force_429`: true or the next N, with `Retry-After: retry_after` when set), 400 invalid event
(`reject_next`: the next N), 500 (`error_rate`
fraction) with {"status": "internal error", "message": "Injected by the emulator's error_rate
fault."}. A dropped connection is closed before any response byte, under uvicorn only.

    GET  /_control/faults   -> the Faults document (counts show what is left)
    PUT  /_control/faults   <- a whole Faults document; fields left out take their defaults;
                               re-seeds the generator so what follows repeats
    POST /_control/reset    -> 204; forgets alerts, events, requests and rate windows, and
                               restores the start-up faults and seed
    GET  /_inspect/events   -> {"events": [{"received_at", "routing_key", "event_action",
                               "dedup_key", "outcome", "alert_id", "body"}]}, every 202 in order;
                               outcome: opened|appended|acknowledged|resolved|dropped (also
                               every resolve while /_control/maintenance drops them)
    GET  /_inspect/alerts?status=open|triggered|acknowledged|resolved
                            -> {"alerts": [{"id", "routing_key", "dedup_key", "status",
                               "severity", "summary", "event_count", "created_at", "updated_at",
                               "acknowledged_at", "resolved_at", "last_payload"}]}, oldest first;
                               open means triggered or acknowledged
    GET  /_inspect/requests -> {"requests": [{"received_at", "path", "status", "outcome",
                               "body"}]}, every enqueue request; status null when dropped;
                               outcome: accepted|invalid|throttled|injected_throttle|
                               injected_error|injected_reject|dropped; body null when not JSON;
                               a REST request adds "method", "query" and "token" (masked),
                               its outcome answered|unauthorized|forbidden|not_found|
                               bad_request|injected_throttle|rate_limited

Services (`services.py`): each routing key feeds one service; a key no service lists feeds the
implicit `PDEFAULT`. With alert grouping off, each alert an event opens is one incident of that
service (`incidents.py`), numbered 1, 2, 3…, its urgency given by the service's rule.

    GET /incidents, /incidents/{id}, /incidents/{id}/alerts, /services/{id}
                            the REST API, `Authorization: Token token=...` (`rest_api.py`;
                            access, 401/403/429, in `rest_access.py`; parameters and paging in
                            `rest_query.py`; shapes in `rest_shapes.py`). Enqueue faults never
                            reach it; its own are `throttle_next` and `rate_limit`.
    /_control/services, /_control/rest, /_control/maintenance,
    POST /_control/incidents/{id}/resolve|acknowledge, GET /_inspect/incidents
                            set up services, tokens and limits, drop resolves as a
                            maintenance window would, resolve or acknowledge by hand
                            (`control_api.py`)
    /webhook_subscriptions[/{id}[/enable|/ping]], GET /_inspect/webhooks
                            Webhooks v3: subscriptions, and each incident change delivered
                            signed, in order, with PagerDuty's retries (`rest_webhooks.py`,
                            `webhooks.py`)

Times are RFC 3339 UTC strings.
"""

from rbtk.emulator.app import create_app
from rbtk.emulator.config import EmulatorConfig
from rbtk.emulator.faults import Faults
from rbtk.emulator.server import running_emulator, serve

__all__ = ["EmulatorConfig", "Faults", "create_app", "running_emulator", "serve"]
