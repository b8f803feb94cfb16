"""All five simulated upstream systems at once, sharing one seeded world (for the demo and end-to-end tests).

The HR system and the mobile app render the same candidates (a session's ``candidate.remoteId`` is an HR
``remote_id``); the OA simulators know the same people under their DingTalk, WeCom and Feishu ids.

Example:
    >>> suite = start_suite(seed=7, sizes=Sizes(candidates=30))
    >>> sorted(suite.urls)
    ['dingtalk', 'feishu', 'hr', 'mobile', 'wecom']
    >>> suite.stop()
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette

from simulators.dingtalk import DingTalkConfig, create_dingtalk_app
from simulators.feishu import FeishuConfig, create_feishu_app
from simulators.hr import HRConfig, create_hr_app
from simulators.mobile import MobileConfig, create_mobile_app
from simulators.seed import Sizes, World, build_world
from simulators.server import RunningServer, run_in_thread
from simulators.wecom import WeComConfig, create_wecom_app

__all__ = ["SYSTEMS", "Suite", "build_apps", "start_suite"]

SYSTEMS = ("hr", "dingtalk", "wecom", "feishu", "mobile")


@dataclass
class Suite:
    """Running simulators: base URLs, the apps (for their ``state.sim``) and the credentials to use."""

    world: World
    apps: dict[str, Starlette]
    servers: dict[str, RunningServer] = field(default_factory=dict)

    @property
    def urls(self) -> dict[str, str]:
        return {name: server.url for name, server in self.servers.items()}

    def credentials(self) -> dict[str, dict[str, Any]]:
        """What a connection to each simulator needs (API keys, app secrets, callback crypto)."""
        hr, ding = self.apps["hr"].state.sim.config, self.apps["dingtalk"].state.sim.config
        wecom, feishu = self.apps["wecom"].state.sim.config, self.apps["feishu"].state.sim.config
        mobile = self.apps["mobile"].state.sim.config
        return {
            "hr": {"api_key": hr.api_key, "webhook_secret": hr.webhook_secret},
            "dingtalk": {
                "app_key": ding.app_key,
                "app_secret": ding.app_secret,
                "corp_id": ding.corp_id,
                "callback_token": ding.callback_token,
                "callback_aes_key": ding.callback_aes_key,
                "owner_key": ding.owner_key or ding.app_key,
                "process_code": "PROC-SIM-INTERVIEW-2ND",
            },
            "wecom": {
                "corp_id": wecom.corp_id,
                "corp_secret": wecom.corp_secret,
                "agent_id": wecom.agent_id,
                "callback_token": wecom.callback_token,
                "callback_aes_key": wecom.callback_aes_key,
                "template_id": next(iter(wecom.templates)),
            },
            "feishu": {
                "app_id": feishu.app_id,
                "app_secret": feishu.app_secret,
                "approval_code": feishu.approval_code,
                "verification_token": feishu.verification_token,
                "encrypt_key": feishu.encrypt_key,
            },
            "mobile": {"api_key": mobile.api_key, "webhook_secret": mobile.webhook_secret},
        }

    def stop(self) -> None:
        """Stop every server."""
        for server in self.servers.values():
            server.stop()
        self.servers.clear()


def build_apps(
    world: World, *, seed_instances: int = 12, options: Mapping[str, Mapping[str, Any]] | None = None
) -> dict[str, Starlette]:
    """One app per system over ``world``; ``options[name]`` adds keyword arguments to that factory."""
    extra = {name: dict((options or {}).get(name, {})) for name in SYSTEMS}
    return {
        "hr": create_hr_app(world, **{"config": HRConfig(), **extra["hr"]}),
        "dingtalk": create_dingtalk_app(
            world, **{"config": DingTalkConfig(seed_instances=seed_instances), **extra["dingtalk"]}
        ),
        "wecom": create_wecom_app(world, **{"config": WeComConfig(seed_instances=seed_instances), **extra["wecom"]}),
        "feishu": create_feishu_app(
            world, **{"config": FeishuConfig(seed_instances=seed_instances), **extra["feishu"]}
        ),
        "mobile": create_mobile_app(world, **{"config": MobileConfig(), **extra["mobile"]}),
    }


def start_suite(
    *,
    seed: int = 7,
    sizes: Sizes | None = None,
    ports: Mapping[str, int] | None = None,
    host: str = "127.0.0.1",
    seed_instances: int = 12,
    options: Mapping[str, Mapping[str, Any]] | None = None,
) -> Suite:
    """Build one world and serve all five simulators (port 0, the default, picks free ports)."""
    world = build_world(seed, sizes)
    suite = Suite(world, build_apps(world, seed_instances=seed_instances, options=options))
    try:
        for name in SYSTEMS:
            suite.servers[name] = run_in_thread(suite.apps[name], host=host, port=(ports or {}).get(name, 0))
    except BaseException:
        suite.stop()
        raise
    return suite
