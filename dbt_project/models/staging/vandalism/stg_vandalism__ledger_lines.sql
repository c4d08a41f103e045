-- A table, unlike the other staging models: the de-duplication below is a window over every
-- ledger line (~5M nationally), and two models and eight tests read the result. Incremental:
-- a refresh recomputes only the lines (housing_org, case_no, line_no) that appear in rows
-- loaded since the last build, from all their rows, so each line ends as a full build would
-- make it. Only additions can be handled so: when a row this table reflects is gone from raw
-- (an export withdrawn or replaced), the pre-hook empties the table and every line is
-- recomputed. sum(n_exports) is the number of raw rows the table reflects, and last_loaded_at
-- bounds when they were loaded, so "nothing gone" is one count.
{{ config(
    materialized='incremental',
    unique_key=['housing_org', 'case_no', 'line_no'],
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    pre_hook="{{ empty_unless_only_appended(source('vandalism', 'vandalism_ledger')) }}",
) }}

-- Exports overlap: a line (housing_org, case_no, line_no) may appear in several files;
-- the file with the latest export period wins, amount, date and category included.
with

raw_ledger as (
    select * from {{ source('vandalism', 'vandalism_ledger') }}
),

{% if is_incremental() %}
    reflected as (
        select max(last_loaded_at) as loaded_until from {{ this }}
    ),

    touched_lines as (
        select distinct
            raw_ledger.selskab,
            raw_ledger.sagsnr,
            raw_ledger.linje
        from raw_ledger
        where
            (select reflected.loaded_until from reflected) is null
            or raw_ledger._loaded_at > (select reflected.loaded_until from reflected)
    ),

    touched_rows as (
        select raw_ledger.*
        from raw_ledger
        inner join touched_lines
            on
                raw_ledger.selskab = touched_lines.selskab
                and raw_ledger.sagsnr = touched_lines.sagsnr
                and raw_ledger.linje = touched_lines.linje
    ),
{% else %}
    touched_rows as (
        select * from raw_ledger
    ),
{% endif %}

ledger as (
    select
        selskab,
        afdeling,
        sagsnr,
        linje,
        dato,
        kategori,
        tekst,
        beloeb,
        export_period,
        _source_file,
        count(*) over (partition by selskab, sagsnr, linje) as n_exports,
        max(_loaded_at) over (partition by selskab, sagsnr, linje) as last_loaded_at,
        row_number() over (
            partition by selskab, sagsnr, linje
            order by export_period desc, _source_file desc
        ) as export_rank
    from touched_rows
)

select
    selskab as housing_org,
    afdeling as department_no,
    sagsnr as case_no,
    linje as line_no,
    dato as line_date,
    kategori as category,
    tekst as line_text,
    beloeb as amount_dkk,
    export_period,
    _source_file as source_file,
    n_exports,
    last_loaded_at,
    cast(extract(year from dato) as integer) as line_year
from ledger
where export_rank = 1
