"""`policyc batch`: a policy over a table of tickets, in DuckDB (issue 6, first part).

    run_batch(policy, input, output, errors) -> BatchResult

Decided rows go to `output` (Parquet): the input's own columns (those that are not
facts, e.g. ticket_id) beside outcome, rule, value decisions, discloses and actions;
rows whose facts are invalid go to `errors` whole, with `policy_error` saying why. No row is lost, none is
decided silently: the two counts add up to the input's. Both are written by streaming
queries (DuckDB spills to disk), so memory stays flat on large inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..backend.sql import ident, to_sql
from ..middle import ir


@dataclass
class BatchResult:
    rows: int
    decided: int
    errors: int


def _source(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    if path.suffix.lower() == ".csv":
        return f"read_csv('{quoted}', header = true, all_varchar = true)"
    if path.suffix.lower() in (".parquet", ".pq"):
        return f"read_parquet('{quoted}')"
    raise ValueError(f"입력은 .csv 나 .parquet 이어야 합니다: {path}")


def run_batch_spark(policy: ir.Policy, input_path: Path, output: Path, errors: Path) -> BatchResult:
    """The same query through Spark SQL. The session is whatever `spark-submit` configured;
    run as plain python it is Spark's local mode, the same code path as on a cluster.
    Spark writes each output as a folder of Parquet part files."""
    from pyspark.sql import SparkSession

    if not input_path.exists():
        raise ValueError(f"입력 파일이 없습니다: {input_path}")
    spark = (SparkSession.builder.appName("policyc batch").config("spark.ui.enabled", "false")
             .config("spark.sql.session.timeZone", "UTC").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    if input_path.suffix.lower() == ".csv":
        frame = spark.read.option("header", True).csv(str(input_path))  # every column as text
    elif input_path.suffix.lower() in (".parquet", ".pq"):
        frame = spark.read.parquet(str(input_path))
    else:
        raise ValueError(f"입력은 .csv 나 .parquet 이어야 합니다: {input_path}")
    columns = frame.columns
    frame.createOrReplaceTempView("policyc_input")
    result = spark.sql(to_sql(policy, "policyc_input", columns, dialect="spark"))
    facts = {f.name for f in policy.facts}
    outputs = [c for c in result.columns if c not in columns and c != "policy_error"]
    decided = result.filter("policy_error IS NULL").select(*[c for c in columns if c not in facts], *outputs)
    decided.write.mode("overwrite").parquet(str(output))
    result.filter("policy_error IS NOT NULL").select(*columns, "policy_error").write.mode("overwrite").parquet(str(errors))
    total = frame.count()
    done, bad = spark.read.parquet(str(output)).count(), spark.read.parquet(str(errors)).count()
    if done + bad != total:
        raise RuntimeError(f"행 수가 맞지 않습니다: 입력 {total}, 결정 {done}, 오류 {bad}")
    return BatchResult(total, done, bad)


def run_batch(policy: ir.Policy, input_path: Path, output: Path, errors: Path, progress: bool = False) -> BatchResult:
    import duckdb

    if not input_path.is_file():
        raise ValueError(f"입력 파일이 없습니다: {input_path}")
    con = duckdb.connect()
    con.execute(f"SET enable_progress_bar = {'true' if progress else 'false'}")
    source = _source(input_path)
    try:
        columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    except duckdb.Error as err:
        raise ValueError(f"입력을 읽을 수 없습니다: {str(err).splitlines()[0]}") from None
    query = to_sql(policy, source, columns)
    keep = ", ".join(ident(c) for c in columns)
    out, err_out = str(output).replace("'", "''"), str(errors).replace("'", "''")
    # the output keeps the input's own columns (ticket_id, …) beside the decision; the facts
    # stay in the input. Each COPY streams; the errors query needs no decisions (DuckDB prunes them).
    facts = {f.name for f in policy.facts}
    own = ", ".join(ident(c) for c in columns if c not in facts)
    decided_cols = ", ".join(x for x in (own, "* EXCLUDE (policy_error" + "".join(
        f", {ident(c)}" for c in columns) + ")") if x)
    con.execute(f"COPY (SELECT {decided_cols} FROM ({query}) WHERE policy_error IS NULL) "
                f"TO '{out}' (FORMAT PARQUET)")
    con.execute(f"COPY (SELECT {keep}, policy_error FROM ({query}) WHERE policy_error IS NOT NULL) "
                f"TO '{err_out}' (FORMAT PARQUET)")
    total = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    decided = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
    bad = con.execute(f"SELECT count(*) FROM read_parquet('{err_out}')").fetchone()[0]
    if decided + bad != total:  # never: but a lost row must not pass unnoticed
        raise RuntimeError(f"행 수가 맞지 않습니다: 입력 {total}, 결정 {decided}, 오류 {bad}")
    return BatchResult(total, decided, bad)
