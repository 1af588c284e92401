"""The operators' progress line (standard error)."""

from __future__ import annotations

import io

from judgement.adapters.inbound.progress import Progress


def test_a_line_every_interval_and_a_last_one_only_after_some() -> None:
    out = io.StringIO()
    quiet = Progress(out, every=3600)
    quiet.show(lambda: "never built")
    quiet.done("nothing was shown")
    assert out.getvalue() == ""
    quiet.done("a summary", always=True)
    assert out.getvalue() == "a summary\n"

    out = io.StringIO()
    chatty = Progress(out, every=0)
    chatty.show(lambda: "1 of 2")
    chatty.show(lambda: "2 of 2")
    chatty.done("done")
    assert out.getvalue().splitlines() == ["1 of 2", "2 of 2", "done"]


def test_a_closed_stream_is_ignored() -> None:
    out = io.StringIO()
    out.close()
    Progress(out, every=0).show(lambda: "lost")
