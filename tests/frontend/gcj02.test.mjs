// node tests/frontend/gcj02.test.mjs — run by tests/frontend/test_gcj02_js.py as well.
import assert from "node:assert/strict";
import { wgs84ToGcj02 } from "../../frontend/static/common/gcj02.js";

// Reference pairs (WGS-84 → GCJ-02) published with open-source implementations of the transform.
const PAIRS = [
  [39.915, 116.404, 39.91640428150164, 116.41024449916938],
  [31.1774276, 121.5272106, 31.17530398364597, 121.531541859215],
  [22.543847, 113.912316, 22.540796131694766, 113.9171764808363],
  [39.911954, 116.377817, 39.91334545536069, 116.38404722455657],
];
for (const [lat, lon, gLat, gLon] of PAIRS) {
  const [a, b] = wgs84ToGcj02(lat, lon);
  assert.ok(Math.abs(a - gLat) < 1e-9 && Math.abs(b - gLon) < 1e-9, `${lat},${lon} → ${a},${b}`);
}
assert.deepEqual(wgs84ToGcj02(48.8584, 2.2945), [48.8584, 2.2945]); // outside China: unchanged
console.log("gcj02: 5 passed, 0 failed");
