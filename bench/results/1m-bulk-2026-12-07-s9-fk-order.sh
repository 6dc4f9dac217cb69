#!/bin/sh
# The ninth session's psql experiment (docs/benchmarks.md, "The ninth session's machine"): when
# are the foreign-key checks of 100,000 audit rows and 100,000 events cheapest? Run once per set,
# a fresh set each time (1, 2, 3), on the benchmark's database, after:
#   CREATE UNLOGGED TABLE s_all AS SELECT id, row_number() OVER (ORDER BY id) n
#     FROM enrollments_enrollment WHERE ended_at > now() + interval '1 day';
# Usage: SET (1-4) ORDER (update_first | inserts_first) MODE (deferred | immediate). The audit
# actor is a user of that data set. Afterwards: delete the rows of batch 0...01, drop s_all, VACUUM.
k=$1; order=$2; mode=$3
lo=$(( (k-1)*100000+1 )); hi=$(( k*100000 ))
ids="SELECT id FROM s_all WHERE n BETWEEN $lo AND $hi"
upd="UPDATE enrollments_enrollment SET ended_at = ended_at + interval '30 days', updated_at = now() WHERE id IN ($ids);"
ins="INSERT INTO enrollments_accesschange (id, action, old_ended_at, new_ended_at, source, reason, batch_id, created_at, actor_id, enrollment_id) SELECT gen_random_uuid(), 'extend', now(), now(), 'command', 'bench', '00000000-0000-0000-0000-000000000001', now(), 'f5057fee-4c3e-4459-82dd-21250b729601', id FROM s_all WHERE n BETWEEN $lo AND $hi;
INSERT INTO enrollments_accessevent (event_id, event_type, action, changed_fields, batch_id, occurred_at, fanned_out, enrollment_id) SELECT gen_random_uuid(), 'course_membership.updated', 'extend', '[\"ended_at\"]', '00000000-0000-0000-0000-000000000001', now(), false, id FROM s_all WHERE n BETWEEN $lo AND $hi;"
if [ $mode = immediate ]; then setc="SET CONSTRAINTS ALL IMMEDIATE;"; else setc=""; fi
if [ $order = update_first ]; then body="$upd $ins"; else body="$ins $upd"; fi
psql -U postgres -h 127.0.0.1 bench -q <<SQL
CHECKPOINT;
\timing on
BEGIN;
$setc
SELECT count(*) FROM (SELECT id FROM enrollments_enrollment WHERE id IN ($ids) FOR UPDATE) x;
$body
COMMIT;
SQL
