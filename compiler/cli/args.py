"""The argument parser, with each command's Korean help and examples."""

from __future__ import annotations

import argparse
import sys
import textwrap

from .. import __version__
from .common import (
    EXIT_USAGE,
    out,
)


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # usage errors in Korean, exit 2
        self.print_usage(sys.stderr)
        out(f"policyc: 사용법 오류: {message}\n`{self.prog} --help` 로 사용법을 보세요.", sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    top = Parser(prog="policyc", formatter_class=fmt,
                  description="상담 정책(.policy)을 검사하고, 앱이 쓰는 파이썬 모듈로 컴파일합니다.",
                  epilog=textwrap.dedent("""\
                      예:
                        policyc build                 policy/*.policy -> generated/*.py
                        policyc build --check         generated/ 가 최신인지 확인 (CI)
                        policyc check                 정책 검사만, 진단을 출력
                        policyc check --format json   CI/편집기용 JSON 진단
                        policyc explain E0201         진단 코드 설명
                      """))
    top.add_argument("--version", action="version", version=f"policyc {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    b = sub.add_parser("build", formatter_class=fmt, help="policy/ 의 모든 정책을 generated/ 로 컴파일",
                       description="policy/*.policy 를 모두 검사하고 generated/<이름>.py 로 컴파일합니다.\n"
                                   "파일은 원자적으로 씁니다: 하나라도 오류가 있으면 아무 파일도 바꾸지 않습니다.",
                       epilog=textwrap.dedent("""\
                           예:
                             policyc build                 컴파일해서 generated/ 를 갱신
                             policyc build --check         바뀔 파일이 있으면 이름을 대고 종료 코드 1 (CI)
                             policyc build --root ../repo  다른 저장소의 policy/ 를 컴파일
                           종료 코드: 0 성공, 1 정책 오류 또는 (--check) 오래된 파일, 2 사용법 오류
                           """))
    b.add_argument("--check", action="store_true", help="파일을 쓰지 않고, generated/ 가 최신이 아니면 실패")
    b.add_argument("--root", default=".", help="policy/ 와 generated/ 가 있는 폴더 (기본: 현재 폴더)")
    b.add_argument("--format", choices=("text", "json"), default="text", help="진단 출력 형식")

    c = sub.add_parser("check", formatter_class=fmt, help="정책을 검사하고 진단만 출력",
                       description="정책을 컴파일하지 않고 검사만 합니다. 파일을 주지 않으면 policy/*.policy 전부.",
                       epilog=textwrap.dedent("""\
                           예:
                             policyc check                                  policy/ 의 모든 정책
                             policyc check policy/driver_info.policy        한 파일
                             policyc check --format json > diagnostics.json
                             policyc check --overlaps                       규칙 순서가 가리는 다른 결과까지
                             policyc check --batch                          policyc batch 로 돌릴 수 있는지까지
                             policyc check --fix                            안전한 고침을 적용
                             policyc check --format github                  GitHub Actions 주석 (::error file=…)
                             policyc check --format sarif > policyc.sarif   코드 스캐닝 (SARIF 2.1.0)
                           진단 형식:  오류[E0201]: 메시지 / --> 파일:줄:열 / 원문 줄 / ^^^ / = 도움말
                           JSON: [{code, severity, file, line, column, end_line, end_column, message, help,
                                   example (분석 결과의 예: decide() 가 받는 사실), notes, related}]
                           정적 분석: 빈틈(E0400), 쓰이지 않는 규칙(E0601), unique 겹침(E0602),
                                      이미 참인 조건(W0604), 불변식 증명(E0606)
                           종료 코드: 0 오류 없음 (경고만 있어도 0), 1 오류 있음, 2 사용법 오류
                           """))
    c.add_argument("files", nargs="*", help="검사할 .policy 파일 (기본: policy/*.policy)")
    c.add_argument("--root", default=".", help="policy/ 가 있는 폴더 (기본: 현재 폴더)")
    c.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text",
                   help="진단 출력 형식 (github: 풀 리퀘스트의 주석, sarif: 코드 스캐닝)")
    c.add_argument("--fix", action="store_true",
                   help="안전한 고침(조사 필터, 쓰이지 않는 파생값·기준 지우기)을 파일에 적용하고 다시 검사")
    c.add_argument("--overlaps", action="store_true",
                   help="(first) 결정에서 뒤 규칙도 맞지만 앞 규칙 때문에 다른 결과가 나는 경우를 모두 보여 줌 (W0603)")
    c.add_argument("--batch", action="store_true",
                   help="policyc batch 로 돌릴 수 없는 구문이 있으면 알려 줌 (W0610)")

    e = sub.add_parser("explain", formatter_class=fmt, help="어떤 규칙이 왜 결정했는지 (또는 진단 코드 설명)",
                       description="사실(JSON)을 주면 결정한 규칙과 그 줄, 앞선 규칙마다 맞지 않은 첫 조건과 실제 값,\n"
                                   "결과의 공개·조치, 답변을 보여 줍니다. 사실은 파일, 표준 입력, 또는 --fact 로 줍니다.\n"
                                   "`policyc explain E0201` 처럼 진단 코드를 주면 그 코드를 설명합니다.",
                       epilog=textwrap.dedent("""\
                           예:
                             policyc explain policy/driver_info.policy facts.json
                             echo '{"request": "driver_phone", ...}' | policyc explain policy/driver_info.policy
                             policyc explain policy/driver_info.policy --fact request=driver_phone \\
                                 --fact trip_status=completed --fact ride_at=2024-03-01T10:00+09:00 \\
                                 --fact asked_at=2024-03-04T10:00+09:00 --fact history_available=false \\
                                 --fact reason=other --context driver_phone=010-1234-5678
                             policyc explain E0400            진단 코드 설명 (--list: 모든 코드)
                           종료 코드: 0 성공, 2 사용법 오류나 잘못된 사실 (PolicyInputError), 1 정책 오류
                           """))
    e.add_argument("target", nargs="?", help="정책 파일 (.policy) 또는 진단 코드")
    e.add_argument("facts_file", nargs="?", help="사실 JSON 파일 (없으면 --fact, 그것도 없으면 표준 입력)")
    e.add_argument("--fact", action="append", default=[], metavar="이름=값", help="사실 하나 (여러 번)")
    e.add_argument("--context", action="append", default=[], metavar="이름=값", help="답변에 넣을 값 (여러 번)")
    e.add_argument("--format", choices=("text", "json"), default="text")
    e.add_argument("--list", action="store_true", help="모든 진단 코드의 목록")

    t = sub.add_parser("test", formatter_class=fmt, help="정책 옆의 YAML 사례를 돌리고 규칙·경계 범위를 봄",
                       description="<이름>.tests.yaml 의 사례를 정책에 돌립니다: 사실 -> 기대한 결과, 상담유형, 공개, 조치,\n"
                                   "답변에 있어야 할 말. 실패는 기대와 실제, 정한 규칙(파일:줄)을 보여 줍니다.\n"
                                   "범위: 어느 사례도 거치지 않은 규칙, 어느 사례도 참/거짓으로 만들지 않은 경계(수치 비교).",
                       epilog=textwrap.dedent("""\
                           예:
                             policyc test                                 policy/*.tests.yaml 모두
                             policyc test policy/driver_info.tests.yaml
                             policyc test --min-coverage 100              CI: 범위가 모자라면 실패
                             policyc test --format json
                           사례 형식: compiler/schemas/tests.schema.json (README 의 policyc test 절)
                           종료 코드: 0 통과, 1 실패한 사례나 모자란 범위, 2 사용법 오류나 잘못된 YAML/정책
                           """))
    t.add_argument("files", nargs="*", help="사례 파일 (.tests.yaml; 기본: policy/*.tests.yaml)")
    t.add_argument("--root", default=".", help="policy/ 가 있는 폴더")
    t.add_argument("--min-coverage", type=float, default=0.0, metavar="퍼센트", help="이보다 범위가 낮으면 실패")
    t.add_argument("--format", choices=("text", "json"), default="text")
    t.add_argument("--junit", metavar="FILE", help="사례마다 testcase 하나인 JUnit XML 을 FILE 에 씀 (CI 보고)")
    t.add_argument("--lcov", metavar="FILE", help="규칙 범위는 줄, 경계의 참/거짓은 분기로 LCOV 파일에 씀")
    t.add_argument("--cobertura", metavar="FILE", help="같은 범위를 Cobertura XML 로 씀")
    t.add_argument("--suggest", action="store_true",
                   help="어느 사례도 거치지 않은 규칙과 경계의 쪽마다 사례를 제안 (YAML, 검토 후 붙여 넣기)")

    f = sub.add_parser("fmt", formatter_class=fmt, help="정책 파일을 한 가지 모양으로 정리 (주석 유지)",
                       description="정책 파일을 정해진 모양으로 다시 씁니다: 들여쓰기, 규칙의 줄바꿈(80칸), 열거값 정렬.\n"
                                   "주석은 그대로 둡니다. 정리한 결과를 다시 읽어 원래와 같은 정책인지 확인한 뒤에만 씁니다.\n"
                                   "읽을 수 없는 파일은 건드리지 않습니다. 두 번 정리해도 결과는 같습니다.",
                       epilog=textwrap.dedent("""\
                           예:
                             policyc fmt                           policy/*.policy 를 정리
                             policyc fmt --check                   바뀔 파일이 있으면 이름을 대고 종료 코드 1 (CI)
                             policyc fmt policy/driver_info.policy
                           종료 코드: 0 성공 (또는 --check 에서 모두 정리됨), 1 --check 에서 정리할 파일 있음,
                                      2 사용법 오류나 읽을 수 없는 파일
                           """))
    f.add_argument("files", nargs="*", help="정리할 .policy 파일 (기본: policy/*.policy)")
    f.add_argument("--root", default=".", help="policy/ 가 있는 폴더")
    f.add_argument("--check", action="store_true", help="쓰지 않고, 정리할 파일이 있으면 실패")

    df = sub.add_parser("diff", formatter_class=fmt, help="두 정책이 다르게 결정하는 경우를 모두 보여 줌",
                        description="두 버전의 정책이 다르게 결정하는 사실의 영역을 빠짐없이 찾아, 영역마다 예와\n"
                                    "이전/이후의 결과, 공개, 조치, 답변을 보여 줍니다. 모양만 바뀌었으면 아무것도 없습니다.",
                        epilog=textwrap.dedent("""\
                            예:
                              policyc diff old/driver_info.policy policy/driver_info.policy
                              policyc diff --git HEAD~1 policy/driver_info.policy     지난 커밋과 지금 작업본
                              policyc diff --git main policy/driver_info.policy --format json
                            종료 코드: 0 결정이 모두 같음, 1 다르게 결정하는 경우 있음,
                                       3 공개가 넓어지는 경우 있음 (새 버전이 이전에 공개하지 않던 것을 공개),
                                       2 사용법 오류나 컴파일할 수 없는 정책
                            """))
    df.add_argument("old", help="이전 정책 파일 (--git 이면 비교할 정책 파일)")
    df.add_argument("new", nargs="?", help="이후 정책 파일")
    df.add_argument("--git", metavar="REV", help="이 git 리비전의 정책과 작업본을 비교")
    df.add_argument("--format", choices=("text", "json"), default="text")

    dc = sub.add_parser("doc", formatter_class=fmt, help="정책에서 상담 매뉴얼(Markdown, HTML) 만들기",
                        description="정책에서 상담원 매뉴얼을 만듭니다: 요청 종류마다 조건 -> 결과 표, 결과마다 예시 값을 넣은\n"
                                    "답변, 기준, 불변식, 작성자 설명(주석), 결정마다 흐름 그림(Graphviz SVG).\n"
                                    "DIR/<이름>.md (그림은 DIR/<이름>-<결정>.svg) 와 한 파일로 된 DIR/<이름>.html 을 씁니다.",
                        epilog=textwrap.dedent("""\
                            예:
                              policyc doc policy/driver_info.policy -o docs/
                            그림에는 Graphviz 가 필요합니다 (Debian: apt-get install graphviz).
                            종료 코드: 0 성공, 1 정책 오류, 2 사용법 오류나 Graphviz 없음
                            """))
    dc.add_argument("policy", help="정책 파일 (.policy)")
    dc.add_argument("-o", "--output", required=True, metavar="DIR", help="문서를 쓸 폴더")

    bt = sub.add_parser("batch", formatter_class=fmt, help="티켓 표(CSV/Parquet)에 정책을 한꺼번에 적용 (DuckDB)",
                        description="입력 표의 행마다 정책을 적용해 결정한 행은 --output (Parquet) 에, 사실이 잘못된 행은\n"
                                    "이유와 함께 --errors (Parquet) 에 씁니다. 입력의 열(ticket_id 등)은 그대로 둡니다.\n"
                                    "파이썬 모듈과 같은 의미의 SQL 을 DuckDB 가 실행합니다.",
                        epilog=textwrap.dedent("""\
                            예:
                              python scripts/tickets.py --rows 1000000 --output tickets.parquet
                              policyc batch policy/driver_info.policy --input tickets.parquet --output decisions.parquet
                              policyc batch policy/driver_info.policy --input tickets.csv --output d.parquet --errors bad.parquet
                              policyc batch policy/driver_info.policy --input tickets.parquet --output out --engine spark
                            종료 코드: 0 성공 (잘못된 행은 --errors 에), 1 정책 오류, 2 사용법 오류나 읽을 수 없는 입력
                            """))
    bt.add_argument("policy", help="정책 파일 (.policy)")
    bt.add_argument("--input", required=True, help="티켓 표 (.csv 또는 .parquet)")
    bt.add_argument("--output", required=True, help="결정한 행 (.parquet)")
    bt.add_argument("--errors", help="잘못된 행과 그 이유 (.parquet; 기본: <output>.errors.parquet)")
    bt.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                    help="2초 넘게 걸리면 진행 막대를 보여 줌 (기본: 터미널에서만)")
    bt.add_argument("--memory-limit", default="1GB",
                    help="DuckDB 가 쓸 메모리 한도 (기본 1GB; 넘으면 임시 폴더에 내려 씀)")
    bt.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                    help="duckdb (기본, 내장) 또는 spark (pyspark; spark-submit 이 정한 클러스터, 없으면 로컬)")

    im = sub.add_parser("impact", formatter_class=fmt, help="두 정책 버전이 티켓에서 얼마나 다르게 결정하는지 (DuckDB)",
                        description="두 버전의 정책을 같은 티켓 표에 적용해, 결과나 공개가 바뀌는 티켓 수를 이전 -> 이후로\n"
                                    "묶어 보여 줍니다 (예: 티켓 id). 공개가 넓어지는 묶음이 먼저 나옵니다.",
                        epilog=textwrap.dedent("""\
                            예:
                              policyc impact old/driver_info.policy policy/driver_info.policy --input tickets.parquet
                              policyc impact OLD NEW --input tickets.parquet --csv impact.csv --html impact.html
                            종료 코드: 0 바뀌는 티켓 없음, 1 있음, 3 공개가 넓어지는 티켓 있음, 2 사용법 오류
                            """))
    im.add_argument("old")
    im.add_argument("new")
    im.add_argument("--input", required=True, help="티켓 표 (.csv 또는 .parquet)")
    im.add_argument("--csv", metavar="FILE", help="결과를 CSV 로도 씀")
    im.add_argument("--html", metavar="FILE", help="결과를 HTML 로도 씀")

    au = sub.add_parser("audit", formatter_class=fmt, help="기록된 상담 결과를 정책과 대조 (DuckDB)",
                        description="상담원이 실제로 한 결과(기록)를 정책의 결정과 대조합니다. 정책이 허락하지 않은\n"
                                    "공개(예: 3일이 지난 연락처 안내)가 먼저 나옵니다.",
                        epilog=textwrap.dedent("""\
                            예:
                              policyc audit policy/driver_info.policy --input replies.parquet
                              policyc audit policy/driver_info.policy --input replies.csv --recorded agent_outcome
                            입력: 사실 열들과 기록된 결과 열 (기본 이름 recorded_outcome)
                            종료 코드: 0 모두 정책대로, 1 다른 기록 있음, 3 허락되지 않은 공개 있음, 2 사용법 오류
                            """))
    au.add_argument("policy")
    au.add_argument("--input", required=True, help="기록 표 (.csv 또는 .parquet)")
    au.add_argument("--recorded", default="recorded_outcome", help="기록된 결과 열의 이름")

    dcd = sub.add_parser("decide", formatter_class=fmt, help="표준 입력의 사실(JSON) -> 결정과 답변(JSON)",
                         description="파이썬이 아닌 앱과 셸을 위한 decide(): 표준 입력으로 사실 JSON 을 받아\n"
                                     "결정과 답변을 JSON 으로 표준 출력에 씁니다. 잘못된 입력은 JSON 오류와 종료 코드 2.",
                         epilog=textwrap.dedent("""\
                             예:
                               echo '{"request": "vehicle_plate", "trip_status": "completed",
                                      "ride_at": "2024-03-01T10:00:00+09:00", "asked_at": "2024-03-02T10:00:00+09:00",
                                      "history_available": false, "reason": "other"}' \\
                                 | policyc decide policy/driver_info.policy --context vehicle_plate=12가3457
                             출력: {"outcome": "disclose_vehicle_plate", ..., "reply": "…12가3457로 확인됩니다."}
                             오류: {"error": {"name": "reason", "problem": "…"}}  (종료 코드 2)
                             """))
    dcd.add_argument("policy", help="정책 파일 (.policy)")
    dcd.add_argument("--context", action="append", default=[], metavar="이름=값", help="답변에 넣을 값 (여러 번)")
    ls = sub.add_parser("lsp", formatter_class=fmt, help="편집기를 위한 언어 서버 (표준 입출력, LSP)",
                        description="Language Server Protocol 서버를 표준 입출력으로 띄웁니다. 편집기가 실행합니다\n"
                                    "(editors/vscode 의 확장). 진단, 설명(hover), 정의·참조, 자동 완성, 이름 바꾸기,\n"
                                    "정리(fmt), 빠른 고침, 값 이름 힌트, 결정마다 사례 결과.")
    ls.set_defaults(command="lsp")

    sv = sub.add_parser("serve", formatter_class=fmt, help="정책 놀이터: 브라우저에서 고치고, 사례를 넣어 보고, 사례로 저장",
                        description="이 컴퓨터(127.0.0.1)에서만 열리는 웹 페이지를 띄웁니다. 주소에는 임의의 토큰이 들어가고,\n"
                                    "policy/ 안의 파일만 씁니다. 답변에 넣은 값은 어디에도 기록하지 않습니다.",
                        epilog=textwrap.dedent("""\
                            예:
                              policyc serve                 policy/ 의 정책, 빈 포트
                              policyc serve --port 8765 --open
                            필요: pip install 'policyc[serve]'
                            """))
    sv.add_argument("--root", default=".", help="policy/ 가 있는 폴더 (기본: 현재 폴더)")
    sv.add_argument("--port", type=int, default=0, help="포트 (기본 0: 빈 포트를 고름)")
    sv.add_argument("--open", action="store_true", help="브라우저로 엶")
    return top
