"""The issue's targets, checked against the figures, and the printed table."""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    target: str
    measured: str
    met: bool | None  # None: not measured
    #: Correctness targets fail `--check`; timing targets depend on the machine and are
    #: reported only.
    correctness: bool


def _ratio(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def checks(results: dict) -> list[Check]:
    """The targets of issue 15 (and the correctness checks kept from issue 6)."""
    found: list[Check] = []
    pages = results.get("pages")
    if pages:
        ratio = pages["deep_over_first"]
        found.append(
            Check("deep page <= 1.5x first page (median)", f"{ratio}x", _ratio(ratio, 1.5), False)
        )
        counts = pages["queries"]
        worst = max(counts["graphql_first"], counts["graphql_deep"], counts["graphql_page_of_1"])
        constant = counts["graphql_page_of_1"] == counts["graphql_first"] == counts["graphql_deep"]
        cold = counts.get("graphql_first_cold_permissions")
        found.append(
            Check(
                "SQL queries per page <= 5, API-key authentication included, constant",
                f"{counts['graphql_page_of_1']} (1 row) / {counts['graphql_first']} (100 rows)"
                f" / {counts['graphql_deep']} (deep)"
                + ("" if cold is None else f"; {cold} with the key's permissions not cached"),
                max(worst, cold or 0) <= 5 and constant,
                True,
            )
        )
        for key, label in (
            ("graphql_over_baseline", "first"),
            ("graphql_over_baseline_deep", "deep"),
        ):
            ratio = pages[key]
            found.append(
                Check(
                    f"GraphQL page <= 1.5x plain values() view ({label} page, median)",
                    f"{ratio}x",
                    _ratio(ratio, 1.5),
                    False,
                )
            )
        status = pages.get("course_status")
        if status:
            count_ms = max(figures["count_ms"] for figures in status.values())
            page_ms = max(figures["page_ms"] for figures in status.values())
            found.append(
                Check(
                    "total_count with a course_status filter <= 100 ms (slowest status)",
                    f"{count_ms} ms ("
                    + ", ".join(f"{name} {f['count_ms']}" for name, f in status.items())
                    + ")",
                    count_ms <= 100,
                    False,
                )
            )
            found.append(
                Check(
                    "page of a course_status filter <= 100 ms (slowest status)",
                    f"{page_ms} ms ("
                    + ", ".join(f"{name} {f['page_ms']}" for name, f in status.items())
                    + ")",
                    page_ms <= 100,
                    False,
                )
            )
    for key in ("bulk_small", "bulk"):
        bulk = results.get(key)
        if not bulk:
            continue
        found.append(
            Check(
                f"bulk extension of {bulk['size']:,} <= 2x bare UPDATE",
                f"{bulk['ratio']}x ({bulk['service']['seconds']}s vs "
                f"{bulk['bare_update']['seconds']}s, {len(bulk['rounds'])} rounds)",
                _ratio(bulk["ratio"], 2),
                False,
            )
        )
        peak = bulk["memory"]["peak_rss_mb"]
        found.append(
            Check(
                f"bulk extension of {bulk['size']:,}: peak memory < 300 MB",
                f"{peak} MB peak RSS (+{bulk['memory']['service_growth_mb']} MB in the call)",
                peak < 300,
                True,
            )
        )
        complete = (
            bulk["service"]["changed"] == bulk["size"] == bulk["service"]["audit_rows"]
            and bulk["bare_update"]["updated"] == bulk["size"]
        )
        found.append(
            Check(
                f"bulk extension of {bulk['size']:,} changes and audits every row",
                f"{bulk['service']['changed']:,} changed, {bulk['service']['audit_rows']:,} "
                f"audit rows, {bulk['bare_update']['updated']:,} by the UPDATE",
                complete,
                True,
            )
        )
    load = results.get("load")
    if load:
        extensions = load["extensions"]
        found.append(Check("load: zero errors", str(load["errors"]), load["errors"] == 0, True))
        found.append(
            Check(
                "load: zero lost extensions",
                f"{extensions['lost']} lost, {extensions['unexpected']} unexpected, "
                f"{extensions['audit_mismatches']} audit mismatches of "
                f"{extensions['successful']} extensions",
                extensions["lost"]
                == extensions["unexpected"]
                == extensions["audit_mismatches"]
                == 0,
                True,
            )
        )
    cost = results.get("cost")
    if cost:
        found += _cost_checks(cost)
    scope = results.get("scope")
    if scope:
        found += _scope_checks(scope)
    compare = results.get("load_compare")
    if compare:
        found.append(
            Check(
                "load: API requests/s >= 0.6x the values() view's (pages only)",
                f"{compare['ratio']}x ({compare['api']['requests_per_s']} vs "
                f"{compare['baseline']['requests_per_s']} req/s)",
                None if compare["ratio"] is None else compare["ratio"] >= 0.6,
                False,
            )
        )
        found.append(
            Check(
                "load, pages only: zero errors",
                str(compare["errors"]),
                compare["errors"] == 0,
                True,
            )
        )
    return found


def _cost_checks(cost: dict) -> list[Check]:
    """Issue 21: every document the cost model admits answers within 1 s (the heaviest of the
    measured ones: timing), and the audit's nested-list document is refused (correctness)."""
    heaviest = cost["heaviest"]
    figures = cost["documents"][heaviest]
    refused = cost["refused"]
    return [
        Check(
            "heaviest document the cost model admits <= 1 s (median)",
            f"{cost['heaviest_median_ms']} ms ({heaviest}, cost {figures['cost']} of "
            f"{cost['budget']}, {figures['values']:,} values)",
            cost["heaviest_median_ms"] <= 1000,
            False,
        ),
        Check(
            "the audit's nested-list document is refused (QUERY_TOO_COSTLY)",
            f"cost {refused['cost']:,}, refused in {refused['latency']['median_ms']} ms",
            refused["refused"],
            True,
        ),
    ]


def _scope_checks(scope: dict) -> list[Check]:
    """Issue 25: a course staff member's page within 1.1x of a global staff member's (timing)
    and in the same SQL statements (correctness: the scope is one condition, not a query)."""
    queries = scope["queries"]
    return [
        Check(
            "course staff page of 100 <= 1.1x a global staff page (median; first, second)",
            f"{scope['staff_over_global_first']}x, {scope['staff_over_global_second']}x "
            f"({scope['course_rows']:,} rows in the course)",
            max(scope["staff_over_global_first"], scope["staff_over_global_second"]) <= 1.1,
            False,
        ),
        Check(
            "course staff page: the same SQL statements as a global staff page",
            f"{queries['course_staff_first']} / {queries['global_first']} (first), "
            f"{queries['course_staff_second']} / {queries['global_second']} (second)",
            queries["course_staff_first"] == queries["global_first"]
            and queries["course_staff_second"] == queries["global_second"],
            True,
        ),
    ]


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))


def table(results: dict) -> str:
    """The figures and the targets as plain-text tables."""
    lines: list[str] = []
    data = results["dataset"]
    lines.append(
        f"Data set: {data['enrollments']:,} enrollments, {data['shape']['courses']:,} courses x "
        f"{data['shape']['items_per_course']} items, {data['users']:,} users, "
        f"{data['completions']:,} item completions"
    )
    rows: list[list[str]] = [["measurement", "n", "median ms", "p95 ms", "SQL queries"]]
    pages = results.get("pages")
    if pages:
        for key, label in (
            ("graphql_first", "1. courseMemberships first page (100)"),
            ("graphql_deep", f"1. courseMemberships {pages['deep_rows']:,} rows deep (100)"),
            ("baseline_first", "2. values() view first page (100)"),
            ("baseline_deep", "2. values() view deep page (100)"),
        ):
            summary = pages["latency"][key]
            rows.append(
                [
                    label,
                    str(summary["n"]),
                    f"{summary['median_ms']:.1f}",
                    f"{summary['p95_ms']:.1f}",
                    str(pages["queries"][key]),
                ]
            )
    if pages:
        for name, figures in pages.get("peers", {}).items():
            for key, label in (
                ("first", "first page"),
                ("deep", f"{pages['deep_rows']:,} rows deep"),
            ):
                if key not in figures:
                    continue
                summary = figures[key]
                ratio = figures[f"{key}_over_ours"]
                rows.append(
                    [
                        f"1p. peer {name}: {label} (100), {ratio}x ours",
                        str(summary["n"]),
                        f"{summary['median_ms']:.1f}",
                        f"{summary['p95_ms']:.1f}",
                        str(figures["queries_first"]) if key == "first" else "",
                    ]
                )
        for status, figures in pages.get("course_status", {}).items():
            for key, label in (("count", "total_count"), ("status_page", "page of 100")):
                summary = pages["latency"][f"{key}_{status}"]
                rows.append(
                    [
                        f"1s. course_status {status} ({figures['rows']:,} rows): {label}",
                        str(summary["n"]),
                        f"{summary['median_ms']:.1f}",
                        f"{summary['p95_ms']:.1f}",
                        str(pages["queries"][f"{key}_{status}"]),
                    ]
                )
    extension = results.get("extension")
    if extension:
        summary = extension["latency"]
        rows.append(
            [
                "3. extendStudentCourseAccess",
                str(summary["n"]),
                f"{summary['median_ms']:.1f}",
                f"{summary['p95_ms']:.1f}",
                str(extension["queries"]),
            ]
        )
    scope = results.get("scope")
    if scope:
        for name, label in (
            ("global_first", "9. global staff: first page (100)"),
            ("course_staff_first", "9. course staff: first page of their course (100)"),
            ("global_second", "9. global staff: page after a cursor"),
            ("course_staff_second", "9. course staff: page after a cursor"),
        ):
            summary = scope["latency"][name]
            rows.append(
                [
                    label,
                    str(summary["n"]),
                    f"{summary['median_ms']:.1f}",
                    f"{summary['p95_ms']:.1f}",
                    str(scope["queries"][name]),
                ]
            )
    cost = results.get("cost")
    if cost:
        for name, figures in cost["documents"].items():
            summary = figures["latency"]
            rows.append(
                [
                    f"6. {name} (cost {figures['cost']}, {figures['values']:,} values,"
                    f" {figures['bytes']:,} bytes)",
                    str(summary["n"]),
                    f"{summary['median_ms']:.1f}",
                    f"{summary['p95_ms']:.1f}",
                    "",
                ]
            )
        summary = cost["refused"]["latency"]
        rows.append(
            [
                f"6. the audit's nested lists (cost {cost['refused']['cost']:,}): refused",
                str(summary["n"]),
                f"{summary['median_ms']:.1f}",
                f"{summary['p95_ms']:.1f}",
                "",
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += ["", *(_row(row, widths) for row in rows)]
    for bulk in (results.get("bulk_small"), results.get("bulk")):
        if not bulk:
            continue
        lines += [
            "",
            f"4. bulk extension of {bulk['size']:,} ({len(bulk['rounds'])} rounds, mean): "
            f"service {bulk['service']['seconds']} s (audit rows "
            f"{bulk['service']['audit_rows']:,}), bare UPDATE {bulk['bare_update']['seconds']} s,"
            f" ratio {bulk['ratio']}x, peak RSS {bulk['memory']['peak_rss_mb']} MB",
        ]
    load = results.get("load")
    if load:
        total = load["total"]
        lines += [
            "",
            f"5. load: {load['clients']} clients, {load['gunicorn_workers']} gunicorn workers, "
            f"{load['seconds']} s: {total['requests']:,} requests, {total['requests_per_s']} "
            f"req/s, p50 {total['p50_ms']} ms, p95 {total['p95_ms']} ms, p99 {total['p99_ms']} "
            f"ms, {load['errors']} errors; {load['extensions']['successful']} extensions, "
            f"{load['extensions']['lost']} lost",
        ]
        for name, figures in load["by_request"].items():
            lines.append(
                f"   {name}: {figures['requests']:,} requests, p50 {figures['p50_ms']} ms, "
                f"p95 {figures['p95_ms']} ms, p99 {figures['p99_ms']} ms, "
                f"{figures['failures']} failures"
            )
    compare = results.get("load_compare")
    if compare:
        lines += [
            "",
            f"5c. load, pages only, {compare['clients']} clients, {compare['rounds']} x "
            f"{compare['seconds']} s each: API {compare['api']['requests_per_s']} req/s, "
            f"values() view {compare['baseline']['requests_per_s']} req/s, "
            f"ratio {compare['ratio']}x",
        ]
    rows = [["target", "measured", "met"]]
    for check in checks(results):
        met = "n/a" if check.met is None else ("yes" if check.met else "NO")
        rows.append([check.target, check.measured, met])
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines += ["", *(_row(row, widths) for row in rows)]
    return "\n".join(lines)
