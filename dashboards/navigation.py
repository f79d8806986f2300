"""Which pages a signed-in user gets: every role the data pages; the roles of
``settings.phi_roles`` also the audited patient lookup."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from dashboards.session import SignedIn
from dashboards.views import patient_lookup, process, quality, queues, reconciliation, statements


@dataclass(frozen=True)
class PageSpec:
    render: Callable[[], None]
    title: str
    url_path: str


DATA_PAGES = (
    PageSpec(reconciliation.render, reconciliation.TITLE, "reconciliation"),
    PageSpec(statements.render, statements.TITLE, "statements"),
    PageSpec(queues.render, queues.TITLE, "queues"),
    PageSpec(quality.render, quality.TITLE, "quality"),
    PageSpec(process.render, process.TITLE, "process"),
)
LOOKUP_PATH = "patient-lookup"
# Every address a page may have; signed out, each answers with the sign-in form.
ALL_PATHS = (*(p.url_path for p in DATA_PAGES), LOOKUP_PATH)


def pages_for(user: SignedIn, phi_roles: list[str]) -> list[PageSpec]:
    pages = list(DATA_PAGES)
    if user.role in phi_roles:
        pages.append(PageSpec(partial(patient_lookup.render, user), patient_lookup.TITLE,
                              LOOKUP_PATH))
    return pages
