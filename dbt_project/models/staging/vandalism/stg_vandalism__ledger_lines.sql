-- A table, unlike the other staging models: the de-duplication below is a window over every
-- ledger line (~5M nationally), and two models and eight tests read the result.
{{ config(materialized='table') }}

-- Exports overlap: a line (housing_org, case_no, line_no) may appear in several files;
-- the file with the latest export period wins, amount, date and category included.
with

raw_ledger as (
    select * from {{ source('vandalism', 'vandalism_ledger') }}
),

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
        row_number() over (
            partition by selskab, sagsnr, linje
            order by export_period desc, _source_file desc
        ) as export_rank
    from raw_ledger
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
    cast(extract(year from dato) as integer) as line_year
from ledger
where export_rank = 1
