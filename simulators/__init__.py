"""Simulated upstream systems the hub talks to, speaking each vendor's dialect faithfully.

Each simulator is a Starlette app built by a factory, holds its state in memory (``app.state.sim``) and is
served over real HTTP on loopback by `run_in_thread` (tests, the embedded demo) or ``python -m simulators``:

| module                   | system                         | factory              |
|--------------------------|--------------------------------|----------------------|
| `simulators.hr`          | HR system (ATS/HRIS)           | `create_hr_app`      |
| `simulators.dingtalk`    | DingTalk approvals             | `create_dingtalk_app`|
| `simulators.wecom`       | WeCom approvals                | `create_wecom_app`   |
| `simulators.feishu`      | Feishu approvals               | `create_feishu_app`  |
| `simulators.mobile`      | mobile HR app (AI interviews)  | `create_mobile_app`  |

Shared: `simulators.faults` (fault switches, ``/_sim/faults``), `simulators.seed` (deterministic bilingual
data), `simulators.signing` (the vendors' signature and encryption schemes), `simulators.suite` (all five).
Controls that act as people in the upstream systems live under ``/_sim/...`` and are never faulted.
This package imports nothing from the hub's own packages.
"""

from simulators.dingtalk import DingTalkConfig, create_dingtalk_app
from simulators.faults import FaultConfig
from simulators.feishu import FeishuConfig, create_feishu_app
from simulators.hr import HR_API_KEY, HRConfig, create_hr_app
from simulators.mobile import MOBILE_API_KEY, MobileConfig, create_mobile_app
from simulators.seed import Sizes, World, build_world
from simulators.server import RunningServer, run_in_thread
from simulators.suite import Suite, start_suite
from simulators.wecom import WeComConfig, create_wecom_app

__all__ = [
    "HR_API_KEY",
    "MOBILE_API_KEY",
    "DingTalkConfig",
    "FaultConfig",
    "FeishuConfig",
    "HRConfig",
    "MobileConfig",
    "RunningServer",
    "Sizes",
    "Suite",
    "WeComConfig",
    "World",
    "build_world",
    "create_dingtalk_app",
    "create_feishu_app",
    "create_hr_app",
    "create_mobile_app",
    "create_wecom_app",
    "run_in_thread",
    "start_suite",
]
