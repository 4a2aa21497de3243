-- The stored model. Sex: woman/man/other/unknown. Amounts in kronor. Rows without
-- consent have no participant_id, referrer, exit reason, income or education.
CREATE TABLE IF NOT EXISTS load_history (
    load_id      INTEGER NOT NULL,
    file_name    VARCHAR NOT NULL,
    checksum     VARCHAR NOT NULL,
    loaded_at    TIMESTAMP NOT NULL,
    kind         VARCHAR NOT NULL,
    rows_read    INTEGER NOT NULL,
    rows_loaded  INTEGER NOT NULL,
    rows_replaced INTEGER NOT NULL,
    warnings     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS enrollments (
    association    VARCHAR NOT NULL,
    participant_id VARCHAR,
    initiative     VARCHAR NOT NULL,
    sex            VARCHAR NOT NULL CHECK (sex IN ('woman', 'man', 'other', 'unknown')),
    start_date     DATE NOT NULL,
    end_date       DATE CHECK (end_date IS NULL OR end_date >= start_date),
    exit_reason    INTEGER,
    birth_year     INTEGER,
    age_at_start   INTEGER,
    referrer_unit  VARCHAR,
    agency         VARCHAR NOT NULL,
    income_at_start VARCHAR,
    income_at_exit VARCHAR,
    education      VARCHAR,
    consent        BOOLEAN NOT NULL,
    load_id        INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS anonymous_counts (
    association VARCHAR NOT NULL,
    initiative  VARCHAR NOT NULL,
    year        INTEGER NOT NULL,
    women       INTEGER NOT NULL CHECK (women >= 0),
    men         INTEGER NOT NULL CHECK (men >= 0),
    other       INTEGER NOT NULL CHECK (other >= 0),
    load_id     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS budget_lines (
    initiative VARCHAR NOT NULL,
    year       INTEGER NOT NULL,
    category   VARCHAR NOT NULL,
    funder     VARCHAR NOT NULL,
    budget     DECIMAL(18, 2) CHECK (budget >= 0),
    actual     DECIMAL(18, 2) CHECK (actual >= 0),
    load_id    INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS initiatives (
    initiative            VARCHAR NOT NULL PRIMARY KEY,
    owner                 VARCHAR,
    partners              VARCHAR,
    start_date            DATE,
    end_date              DATE,
    target_participants   INTEGER,
    target_women_share    DOUBLE,
    target_positive_share DOUBLE,
    load_id               INTEGER NOT NULL
);
-- The national follow-up's register fields, added to databases made before them: direction 'individual' or
-- 'structural' (NULL = not stated, read as individual), target group, ESF funding (NULL = not known).
ALTER TABLE initiatives ADD COLUMN IF NOT EXISTS direction VARCHAR;
ALTER TABLE initiatives ADD COLUMN IF NOT EXISTS target_group VARCHAR;
ALTER TABLE initiatives ADD COLUMN IF NOT EXISTS esf BOOLEAN;
-- Structural initiatives report a count of participants per year, nothing per person: kept apart from
-- enrollments and anonymous_counts, so no individual figure (metrics/facts.py) can ever include them.
CREATE TABLE IF NOT EXISTS structural_counts (
    association  VARCHAR NOT NULL,
    initiative   VARCHAR NOT NULL,
    year         INTEGER NOT NULL,
    participants INTEGER NOT NULL CHECK (participants >= 0),
    load_id      INTEGER NOT NULL
);
-- The association's own economy per year: allocated funds per party (party_group: state, region,
-- municipalities), equity at the start and end of the year, administration (budget and actual).
CREATE TABLE IF NOT EXISTS economy_lines (
    association VARCHAR NOT NULL,
    year        INTEGER NOT NULL,
    item        VARCHAR NOT NULL CHECK (item IN ('allocated', 'equity_start', 'equity_end', 'administration')),
    party       VARCHAR,
    party_group VARCHAR CHECK (party_group IS NULL OR party_group IN ('state', 'region', 'municipalities')),
    budget      DECIMAL(18, 2) CHECK (budget >= 0),
    actual      DECIMAL(18, 2) CHECK (actual >= 0),
    load_id     INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS exit_reasons (
    code        INTEGER NOT NULL PRIMARY KEY,
    label       VARCHAR NOT NULL,
    short_label VARCHAR NOT NULL,
    positive    BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   VARCHAR NOT NULL PRIMARY KEY,
    value VARCHAR
);
-- Every change to the database (a load call, an undo, a mapping change) with who made it and the
-- snapshot of the database from before it (etl/history.py). A load call's change_id is the load_id of
-- its first file; ids come from one sequence that never goes back, not even after an undo.
CREATE TABLE IF NOT EXISTS changes (
    change_id       INTEGER NOT NULL PRIMARY KEY,
    action          VARCHAR NOT NULL,   -- load, undo, mapping
    changed_at      TIMESTAMP NOT NULL,
    actor           VARCHAR NOT NULL,   -- the signed-in user, or who ran the command line
    first_load_id   INTEGER,            -- a load: its files' rows in load_history
    last_load_id    INTEGER,
    snapshot        VARCHAR,            -- file name in snapshots/ of the database before; NULL: none kept
    no_database     BOOLEAN NOT NULL,   -- there was no database before (undo leaves an empty one)
    replaced        VARCHAR NOT NULL,   -- rows of earlier loads it replaced: "3:120,4:12"
    replaced_sample BOOLEAN NOT NULL,   -- it replaced a database holding only the sample
    undoes          INTEGER,            -- an undo: the change whose previous state it restored
    detail          VARCHAR NOT NULL
);
-- How many initiative-years a change altered (its rows in change_effects); NULL: not recorded (a change from
-- before this was kept, or made without the metrics layer registered: core/effects.py).
ALTER TABLE changes ADD COLUMN IF NOT EXISTS effects INTEGER;
-- What each change did to the figures per initiative and year, before → after (core/effects.py): the table
-- the data page previews before a load, kept with the change in the same transaction as the data.
CREATE TABLE IF NOT EXISTS change_effects (
    change_id           INTEGER NOT NULL,
    initiative          VARCHAR NOT NULL,
    year                INTEGER NOT NULL,
    participants_before BIGINT NOT NULL,
    participants_after  BIGINT NOT NULL,
    started_before      BIGINT NOT NULL,
    started_after       BIGINT NOT NULL,
    exited_before       BIGINT NOT NULL,
    exited_after        BIGINT NOT NULL,
    budget_before       DOUBLE,
    budget_after        DOUBLE,
    actual_before       DOUBLE,
    actual_after        DOUBLE,
    PRIMARY KEY (change_id, initiative, year)
);
-- Each stored referrer unit and what the mapping (data/referrers.csv) makes of it; rule NULL: nothing
-- matched, so the unit counts as Annan. Derived again on every change, so it always follows the mapping.
CREATE TABLE IF NOT EXISTS referrer_units (
    unit   VARCHAR NOT NULL PRIMARY KEY,
    agency VARCHAR NOT NULL,
    rule   VARCHAR
);
