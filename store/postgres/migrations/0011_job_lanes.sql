-- Job lanes: jobs that share a non-empty lane run one at a time, in id
-- order, across conversations (a Slack channel's posts). The claim locks a
-- lane as it locks a conversation.
ALTER TABLE jobs ADD COLUMN lane text NOT NULL DEFAULT '';
-- The per-lane ordering checks: earlier live jobs, and held leases.
CREATE INDEX jobs_lane_live ON jobs (lane, id)
    WHERE status IN ('pending', 'running') AND lane <> '';
CREATE INDEX jobs_lane_running ON jobs (lane)
    WHERE status = 'running' AND lane <> '';

-- baton_next_job as before, and a job is also held back by its lane: a
-- job of the lane holding a lease, or an earlier one due or waiting for a
-- retry. It reports the lane, which the claimer locks, and skips the lanes
-- it was told to.
DROP FUNCTION IF EXISTS baton_next_job(timestamptz, text[], bigint[], bigint[]);
CREATE OR REPLACE FUNCTION baton_next_job(p_now timestamptz, p_kinds text[], p_skip_convs bigint[], p_skip_jobs bigint[], p_skip_lanes text[])
RETURNS TABLE (job_id bigint, job_conversation_id bigint, job_lane text)
LANGUAGE plpgsql
SET enable_sort = off
SET enable_bitmapscan = off
AS $$
BEGIN
    RETURN QUERY
    SELECT j.id, j.conversation_id, j.lane FROM jobs j
    WHERE j.status IN ('pending', 'running')
        AND ((j.status = 'pending' AND j.run_at <= p_now) OR (j.status = 'running' AND j.lease_until <= p_now))
        AND (cardinality(p_kinds) = 0 OR j.kind = ANY (p_kinds))
        AND NOT (j.conversation_id = ANY (p_skip_convs))
        AND NOT (j.id = ANY (p_skip_jobs))
        AND NOT (j.lane = ANY (p_skip_lanes))
        AND (j.conversation_id = 0 OR (
            NOT EXISTS (SELECT 1 FROM jobs k
                WHERE k.conversation_id = j.conversation_id AND k.conversation_id <> 0
                    AND k.status = 'running' AND k.lease_until > p_now)
            AND NOT EXISTS (SELECT 1 FROM jobs k
                WHERE k.conversation_id = j.conversation_id AND k.conversation_id <> 0 AND k.id < j.id
                    AND k.status IN ('pending', 'running') AND (k.attempts > 0 OR k.run_at <= p_now))))
        AND (j.lane = '' OR (
            NOT EXISTS (SELECT 1 FROM jobs k
                WHERE k.lane = j.lane AND k.lane <> ''
                    AND k.status = 'running' AND k.lease_until > p_now)
            AND NOT EXISTS (SELECT 1 FROM jobs k
                WHERE k.lane = j.lane AND k.lane <> '' AND k.id < j.id
                    AND k.status IN ('pending', 'running') AND (k.attempts > 0 OR k.run_at <= p_now))))
    ORDER BY j.run_at, j.id
    LIMIT 1
    FOR UPDATE OF j SKIP LOCKED;
END
$$;
