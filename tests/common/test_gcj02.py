"""WGS-84 → GCJ-02 for Chinese tile providers, against published reference pairs."""

from __future__ import annotations

import pytest

from apps.common.geo import haversine_m, out_of_china, wgs84_to_gcj02

# (WGS-84 lat, lon) → (GCJ-02 lat, lon), as published with open-source implementations of the
# transform (Beijing, Shanghai, Shenzhen).
PAIRS = [
    ((39.915, 116.404), (39.91640428150164, 116.41024449916938)),
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),
]


@pytest.mark.parametrize(("wgs", "gcj"), PAIRS)
def test_wgs84_to_gcj02_matches_reference_pairs(
    wgs: tuple[float, float], gcj: tuple[float, float]
) -> None:
    lat, lon = wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-9)
    assert lon == pytest.approx(gcj[1], abs=1e-9)


def test_the_shift_in_simao_is_a_few_hundred_metres() -> None:
    lat, lon = wgs84_to_gcj02(22.78, 100.975)
    assert 100 < haversine_m(22.78, 100.975, lat, lon) < 1000


def test_outside_china_nothing_is_shifted() -> None:
    assert out_of_china(48.8584, 2.2945)
    assert wgs84_to_gcj02(48.8584, 2.2945) == (48.8584, 2.2945)
