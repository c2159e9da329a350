-- Reverse of schema_v1_install.sql (pgqueuer 1.6.0's uninstall script, then the schema). Never edit.
DROP TRIGGER IF EXISTS tg_pgqueuer_changed ON jobs.pgqueuer;
DROP FUNCTION IF EXISTS jobs.fn_pgqueuer_changed;
DROP TABLE IF EXISTS jobs.pgqueuer;
DROP TABLE IF EXISTS jobs.pgqueuer_log;
DROP TABLE IF EXISTS jobs.pgqueuer_schedules;
DROP TABLE IF EXISTS jobs.pgqueuer_statistics;
DROP TYPE IF EXISTS jobs.pgqueuer_status;
DROP TYPE IF EXISTS jobs.pgqueuer_statistics_status;
DROP SCHEMA IF EXISTS jobs;
