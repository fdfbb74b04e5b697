"""How the wapiti part reads wapiti's output: what a time bound cut is
counted, anything else is a finding. The samples are wapiti 3.2.3's own
output, the frames shortened. Run by scripts/attack before the battery."""

from __future__ import annotations

import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import wapiti  # noqa: E402

CRAWL_BOUND = """[*] Saving scan state, please wait...
Max scan time was reached, stopping.
[*] Saving scan state, please wait...
[*] Wapiti found 3177 URLs and forms during the scan
"""

CLIENT_CLOSED = """Task exception was never retrieved
future: <Task finished name='Task-2711' coro=<Explorer._async_analyze() done, defined at .../wapitiCore/net/explorer.py:283> exception=RuntimeError('Cannot send a request, as the client has been closed.')>
Traceback (most recent call last):
  File ".../wapitiCore/net/explorer.py", line 307, in _async_analyze
    response: Response = await self._crawler.async_send(request, stream=True)
                         ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File ".../httpx/_client.py", line 1599, in send
    raise RuntimeError("Cannot send a request, as the client has been closed.")
RuntimeError: Cannot send a request, as the client has been closed.
"""

BODY_CUT = """Task exception was never retrieved
future: <Task finished name='Task-2740' coro=<Explorer._async_analyze() done, defined at .../wapitiCore/net/explorer.py:283> exception=ReadError('')>
Traceback (most recent call last):
  File ".../httpx/_transports/default.py", line 69, in map_httpcore_exceptions
    yield
  File ".../httpcore/_backends/anyio.py", line 31, in read
    with map_exceptions(exc_map):
  File ".../httpcore/_exceptions.py", line 14, in map_exceptions
    raise to_exc(exc) from exc
httpcore.ReadError

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File ".../wapitiCore/net/explorer.py", line 326, in _async_analyze
    await response.read()
  File ".../httpx/_transports/default.py", line 86, in map_httpcore_exceptions
    raise mapped_exc(message) from exc
httpx.ReadError
"""


def read(*parts: str) -> wapiti.Output:
    return wapiti.read_output("".join(parts))


class ReadOutput(unittest.TestCase):
    def test_crawl_tasks_cut_by_the_crawl_bound_are_counted(self):
        output = read(CRAWL_BOUND, CLIENT_CLOSED, "[*] Launching module sql\n", BODY_CUT, BODY_CUT)
        self.assertEqual(output.errors, [])
        self.assertEqual(output.cut, {wapiti.CLIENT_CLOSED: 1, wapiti.BODY_CUT: 2})

    def test_the_same_failure_before_the_crawl_bound_is_a_finding(self):
        output = read(BODY_CUT, CRAWL_BOUND)
        self.assertEqual(len(output.errors), 1)
        self.assertIn("httpx.ReadError", output.errors[0])
        self.assertEqual(output.cut, {})

    def test_a_module_bound_does_not_excuse_a_crawl_task(self):
        output = read("Max attack time was reached for module sql, stopping.\n", CLIENT_CLOSED)
        self.assertEqual(len(output.errors), 1)

    def test_another_task_or_exception_is_a_finding(self):
        other_task = BODY_CUT.replace("Explorer._async_analyze()", "ModuleSql.attack()")
        other_exception = CLIENT_CLOSED.replace(wapiti.CLIENT_CLOSED, "KeyError: 'csrf'")
        output = read(CRAWL_BOUND, other_task, other_exception)
        self.assertEqual(len(output.errors), 2)
        self.assertIn("ModuleSql.attack()", output.errors[0])
        self.assertTrue(output.errors[1].endswith("KeyError: 'csrf'"))

    def test_each_chained_traceback_is_read_as_one_block(self):
        # A finding is reported once per block, naming its last exception,
        # and what follows the block is read as usual.
        other = BODY_CUT.replace("httpx.ReadError\n", "httpx.RemoteProtocolError: peer closed\n")
        output = read(CRAWL_BOUND, other, "[*] Launching module xss\n", CLIENT_CLOSED)
        self.assertEqual(len(output.errors), 1)
        self.assertTrue(output.errors[0].endswith("httpx.RemoteProtocolError: peer closed"))
        self.assertEqual(output.cut, {wapiti.CLIENT_CLOSED: 1})

    def test_requests_cancelled_right_after_a_bound_are_counted(self):
        cancelled = "[!] ReadError with URL http://127.0.0.1:8080/cases?q=1\n"
        output = read("Max attack time was reached for module xss, stopping.\n", cancelled, cancelled)
        self.assertEqual(output.cancelled, 2)
        self.assertEqual(output.errors, [])
        output = read("[*] Launching module xss\n", cancelled)
        self.assertEqual(output.cancelled, 0)
        self.assertEqual(len(output.errors), 1)

    def test_a_bare_traceback_or_error_line_is_a_finding(self):
        output = read("Traceback (most recent call last):\n  File \"x\", line 1\nValueError\n[!] Something broke\n")
        self.assertEqual(output.errors, ["Traceback (most recent call last):", "[!] Something broke"])

    def test_the_unreachable_endpoint_is_not_a_finding(self):
        self.assertEqual(read("[!] Unable to request endpoint URL 'https://wapiti3.ovh/'\n").errors, [])


if __name__ == "__main__":
    unittest.main()
