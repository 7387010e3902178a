-- Job lanes: jobs that share a non-empty lane run one at a time, in id
-- order, across conversations (a Slack channel's posts).
ALTER TABLE jobs ADD COLUMN lane TEXT NOT NULL DEFAULT '';
-- The per-lane ordering check: earlier live jobs of the lane.
CREATE INDEX jobs_active_lane ON jobs (lane, id) WHERE status IN ('pending', 'running') AND lane <> '';
