-- Finished jobs by age, for PurgeJobs.
CREATE INDEX jobs_finished ON jobs (status, updated_at, id) WHERE status IN ('done', 'dead');
