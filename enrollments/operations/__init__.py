"""The operation core: every change to enrollments' access, from every door, goes through here.

A door (GraphQL mutation, admin view, management command) parses its input, asks the
permission the operation names, builds a `Selection`, makes one core call and renders the
`Plan` it gets back. It decides no rule.

Using it
--------
::

    from enrollments.operations import Extend, Selection, apply, preview
    from enrollments.operations.audit import Attribution

    operation = Extend(days=30)                       # the request; precedence applied
    selection = Selection.named([enrollment.pk])      # or Selection.by_filter(queryset)
    shown = preview(operation, selection)             # reads, no locks, writes nothing
    done = apply(operation, selection, Attribution(user, AccessChange.Source.ADMIN, "why"),
                 expected=shown.fingerprint())        # raises ChangedSincePreview if it moved

- `preview(operation, selection) -> Plan`: plans without locks.
- `apply(operation, selection, by, expected=None, batch_size=None, on_batch=None) -> Plan`:
  in one transaction locks the rows in primary-key order, reads the clock after the lock,
  plans again under the lock, compares with `expected` (a plan's `fingerprint()`: a
  difference writes nothing and raises `errors.ChangedSincePreview` with the new plan as
  `.plan`), writes with set-based SQL and one audit row per change, all with one `batch_id`.
  `batch_size` splits a large selection into several transactions sharing that batch id.
- `apply_to_one(operation, enrollment, by)`: `apply` for one named enrollment, raising the
  skip's error (the API's single-row answer).
- A `Plan` holds `changes` (`Change`: id, action, `before`/`after` `State`, paused seconds),
  `skips` (`Skip`: id and the DomainError that says why), `unchanged` (ids already as asked)
  and, once applied, `batch_id`. Its `fingerprint()` names the decision row by row, without
  the clock-dependent `after` values.

Named or filtered
-----------------
`Selection.named(ids)` (the request listed its enrollments) or `Selection.by_filter(queryset)`
(whatever matches a condition). Operations receive `named` in `plan`; the only rule that
differs today is in `Extend`: a filtered selection skips rows an extension by days would
leave still expired. The rule and which door builds which selection are in
`operations/selection.py` and in the README ("Named and filtered requests").

Adding an operation
-------------------
An operation is a frozen dataclass subclassing `base.Operation`; its fields are its
parameters. It declares:

- `action`: the `AccessChange.Action` of its audit rows (a class attribute, or a property
  when it depends on the parameters; each `Change` carries its own action, so an operation
  may mix actions).
- `permission`: a `permissions.Permission`; every door asks exactly this one.
- `describe()`: the request in words (doors show it; it starts the plan's fingerprint, so it
  must name every parameter).
- `validate(now=)`: request-level checks that need no row (raise a `DomainError`).
- `plan_row(row, now=, named=)`: one `Row`'s `Change`, None when already as asked, or raise a
  `DomainError` to skip it. Pure: no database, no clock but `now`. Override `plan(rows, ...)`
  instead when the decision spans rows.

and may override:

- `read_facts(ids) -> {id: facts}`: data beyond the enrollment row that the plan needs, read
  by the core after the rows are locked and handed to the plan as `row.facts`. An undo of a
  batch reads the batch's audit rows and each row's later audit rows here (audit rows are
  written only by the core, under the same row locks, so what it reads cannot move before
  the commit), and plans `after` = the audit row's old state, or a skip when a later row exists.
- `write(changes, now=, scope=)`: the set-based SQL for a chunk of changes, their rows looked
  up within `scope` (the selection's own queryset when it reads the enrollment table alone,
  `writing.update_locked`: every locked row written or none). The default
  (`writing.write_states`) writes the fields the changes alter: one UPDATE when every row gets
  the same values, one CASE UPDATE otherwise. `Extend` by days overrides it with
  `ended_at = ended_at + N days`.

The core writes the audit rows (`writing.audit_values`: old/new end, old/new pause state when
it moves, paused seconds) and everything else; nothing else needs to change.

Operations that create enrollments (enroll): the pairs to enroll are the operation's
parameters, and its selection is `Selection.named` of the pairs' existing enrollments, so
those are locked and planned like any row (already enrolled: unchanged, or updated). `plan`
adds a `Change` with `before=None` for each pair without an enrollment (a `Change` subclass
carrying the user, course and start); `write` inserts those rows, and the audit row records
only the new state. The unique (user, course) constraint serialises two concurrent enrollments:
the second insert fails its transaction, and `enrolling.enroll` plans it again (the pair is
then already enrolled). `Enroll` (operations/enrolling.py) is this operation.

New state (a removal mark): a new `State` field with the Enrollment column of the same name;
the rows read, the default write and the fingerprint follow from the field list.
"""

from enrollments.operations.access import Extend
from enrollments.operations.base import Change, Operation, Plan, Row, Skip, State
from enrollments.operations.core import apply, apply_to_one, preview
from enrollments.operations.enrolling import Enroll
from enrollments.operations.expiring import Expire
from enrollments.operations.pausing import Pause, Resume
from enrollments.operations.removing import Remove
from enrollments.operations.selection import Selection
from enrollments.operations.undoing import Undo

__all__ = [
    "Change",
    "Enroll",
    "Expire",
    "Extend",
    "Operation",
    "Pause",
    "Plan",
    "Remove",
    "Resume",
    "Row",
    "Selection",
    "Skip",
    "State",
    "Undo",
    "apply",
    "apply_to_one",
    "preview",
]
