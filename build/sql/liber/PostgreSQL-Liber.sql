-- Liber's own tables of the cluster (`liber serve --cluster`), beside Orleans' (build/sql/orleans/).
-- Idempotent: every statement is CREATE ... IF NOT EXISTS, so build/cluster-db.sh applies it on every run and every
-- silo's store applies it again when it opens (under an advisory lock, in one transaction). Tables go into the first
-- schema of the connection's search path (the tests use a scratch schema per test).

-- The schema version; a store refuses a database whose version it does not know.
CREATE TABLE IF NOT EXISTS liber_meta(
    key   text PRIMARY KEY,
    value text NOT NULL);
-- Schema 1 (before the shared statistics) becomes 2: its events were never counted, so a database that holds users
-- is marked as one without statistics (a silo that counts them refuses it; one with "statistics": false serves it).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM liber_meta WHERE key = 'schema' AND value = '1') THEN
        IF EXISTS (SELECT 1 FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'liber_users') THEN
            EXECUTE 'INSERT INTO liber_meta(key, value) SELECT ''statistics'', ''off'' WHERE EXISTS (SELECT 1 FROM liber_users) ON CONFLICT (key) DO NOTHING';
        END IF;
        UPDATE liber_meta SET value = '2' WHERE key = 'schema';
    END IF;
END
$$;
INSERT INTO liber_meta(key, value) VALUES ('schema', '2') ON CONFLICT (key) DO NOTHING;

-- External user ids and their dense ids, handed out by the sequence (a dense id that lost a race is a gap). Ids are
-- unique per table whatever the Orleans service id, so a cluster restarted under a new service id keeps them apart.
CREATE TABLE IF NOT EXISTS liber_users(
    user_id  integer PRIMARY KEY,
    external text    NOT NULL UNIQUE);
CREATE SEQUENCE IF NOT EXISTS liber_user_ids AS integer MINVALUE 0 START WITH 0;
-- Databases whose ids came from the user-id grain before the sequence existed: move it past them (never backwards).
DO $$
BEGIN
    PERFORM setval('liber_user_ids', m.next, false)
    FROM (SELECT max(user_id) + 1 AS next FROM liber_users) m, liber_user_ids s
    WHERE m.next IS NOT NULL AND m.next > (CASE WHEN s.is_called THEN s.last_value + 1 ELSE s.last_value END);
END
$$;

-- Closed partitions with their events, drained from the user grains' outboxes. Write-once, keyed by
-- (user, partition number): a second insert with the same content is a no-op, other content is an error.
CREATE TABLE IF NOT EXISTS liber_partitions(
    user_id       integer  NOT NULL,
    number        integer  NOT NULL,
    start_index   integer  NOT NULL,
    end_index     integer  NOT NULL,
    start_time    bigint   NOT NULL,
    end_time      bigint   NOT NULL,
    prompt_tokens integer  NOT NULL,
    content_hash  text     NOT NULL,
    event_ids     bigint[] NOT NULL,  -- the events in index order: ids, dense items, unix seconds, ratings
    items         integer[] NOT NULL,
    times         bigint[] NOT NULL,
    ratings       real[]   NOT NULL,
    PRIMARY KEY (user_id, number));

-- One interest job per closed partition, inserted in the partition's transaction. status: 0 pending, 1 done, 2 failed.
-- Texts and vectors are written once, when the job is done; later outcomes for a done job are ignored.
CREATE TABLE IF NOT EXISTS liber_interest_jobs(
    user_id     integer  NOT NULL,
    number      integer  NOT NULL,
    status      smallint NOT NULL DEFAULT 0,
    attempts    integer  NOT NULL DEFAULT 0,
    error       text,
    retry_at    bigint   NOT NULL DEFAULT 0,  -- unix ms before which a pending job is not leased again
    lease_until bigint   NOT NULL DEFAULT 0,  -- unix ms until which a silo's nearline worker holds it
    summary     text,
    shift       text,
    summary_vec real[],
    shift_vec   real[],
    PRIMARY KEY (user_id, number),
    FOREIGN KEY (user_id, number) REFERENCES liber_partitions(user_id, number));

-- Open jobs by user and number: the lease scan reads only these.
CREATE INDEX IF NOT EXISTS liber_interest_jobs_open ON liber_interest_jobs(user_id, number) WHERE status <> 1;

-- Point-in-time statistics (the input of models trained with `--stats on`), counted by the user grains after each state
-- write: every applied event once, whichever silo applied it. liber_stats_users.counted is how many of the user's events
-- (by index) are counted, and moves in the same transaction as the counters, so a count replayed after a crash adds
-- nothing. Categories are upper-cased (training matches them case-insensitively). Each silo group-commits its grains'
-- counts; the all-users counter is split into shards (each group adds to a random one, a read sums them), so two silos'
-- groups rarely wait on one row.
CREATE TABLE IF NOT EXISTS liber_stats_users(
    user_ext   text             PRIMARY KEY,
    counted    integer          NOT NULL DEFAULT 0,
    events     bigint           NOT NULL DEFAULT 0,
    positives  bigint           NOT NULL DEFAULT 0,
    rating_sum double precision NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS liber_stats_user_categories(
    user_ext   text             NOT NULL,
    category   text             NOT NULL,
    events     bigint           NOT NULL,
    positives  bigint           NOT NULL,
    rating_sum double precision NOT NULL,
    PRIMARY KEY (user_ext, category));
CREATE TABLE IF NOT EXISTS liber_stats_items(
    item       text             PRIMARY KEY,
    events     bigint           NOT NULL,
    positives  bigint           NOT NULL,
    rating_sum double precision NOT NULL);
CREATE TABLE IF NOT EXISTS liber_stats_global(
    shard      smallint         PRIMARY KEY,
    events     bigint           NOT NULL,
    positives  bigint           NOT NULL,
    rating_sum double precision NOT NULL);

