"""Example certificate template: the per-year certificate of the health industry (卫生健康行业).

It reuses the built-in Henan page (``HenanAnnual``: same context keys, same escaping), adds a second
title line and a note, and applies only to persons whose ``industry_code`` is ``"health"``; with its
higher ``priority`` it then wins over the built-in. Its own Jinja file lives in ``certificate_assets/``
(also the only folder the PDF renderer lets it read) and extends the built-in ``base.html``.
"""

from __future__ import annotations

from pathlib import Path

from app.plugins.builtin_certificates import HenanAnnual

INDUSTRY = "health"


class HealthAnnualCertificate(HenanAnnual):
    code = "mooc_health_annual"
    name = "卫生健康行业继续教育电子证书（按年度）"
    priority = 10
    subheading = "（卫生健康行业）"
    notes = ("注：本证书所载学时已按卫生健康行业继续医学教育学分折算。",)
    template_name = "health_annual.html"
    assets_dir = str(Path(__file__).resolve().parent / "certificate_assets")

    def applies_to(self, context):
        return context.get("industry_code") == INDUSTRY
