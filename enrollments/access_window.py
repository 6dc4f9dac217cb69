"""Limits of an enrollment's access window, shared by the model constraints and the operation core.

The public API exposes `endedAt` as a GraphQL `Int` of Unix seconds, which is 32-bit: an end
date after 2038-01-19T03:14:07Z could be stored but never read back through the API. The
database refuses such a date (a check constraint) and the operation core refuses to compute one.
"""

from datetime import UTC, datetime

INT32_MAX = 2**31 - 1

#: The latest end of access that the API can represent.
MAX_ENDED_AT = datetime.fromtimestamp(INT32_MAX, tz=UTC)

#: The most days an extension may add: from the earliest instant 32-bit Unix seconds hold
#: (1901-12-13, before any end the service keeps) to MAX_ENDED_AT. More would end every
#: enrollment's access after MAX_ENDED_AT: a request invalid for every row, refused as such.
MAX_EXTENSION_DAYS = (MAX_ENDED_AT - datetime.fromtimestamp(-INT32_MAX - 1, tz=UTC)).days

#: `total_paused_duration` is a GraphQL `Int!` too.
MAX_TOTAL_PAUSED_SECONDS = INT32_MAX

#: The widest window of days around now that a report or a reminder sweep reads: a hundred
#: years reach past every end the API can hold, and now plus or minus that stays on the
#: calendar, where a larger count overflows it (a traceback instead of an answer).
MAX_WINDOW_DAYS = 36_500
