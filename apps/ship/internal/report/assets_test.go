package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the module root, where package.json and node_modules are.
const repoRoot = "../../../.."

// The committed copy of ECharts (and its licence files) is the version package.json pins:
// `make report-assets` refreshes it, and this fails when they differ, so the copy cannot
// drift from the pin. Outside CI a machine that has not run `make install` skips it.
func TestEmbeddedEChartsMatchesPin(t *testing.T) {
	copies := map[string]string{
		"assets/echarts.min.js":  "node_modules/echarts/dist/echarts.min.js",
		"assets/LICENSE":         "node_modules/echarts/LICENSE",
		"assets/NOTICE":          "node_modules/echarts/NOTICE",
		"assets/LICENSE-d3":      "node_modules/echarts/licenses/LICENSE-d3",
		"assets/LICENSE-zrender": "node_modules/zrender/LICENSE",
	}
	for copied, pinned := range copies {
		want, err := os.ReadFile(filepath.Join(repoRoot, pinned))
		if err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("read %s: %v (CI runs make install first: is echarts in package.json?)", pinned, err)
			}
			t.Skipf("read %s: %v: run `make install` to compare the embedded ECharts with the pin", pinned, err)
		}
		got, err := os.ReadFile(copied)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from %s (%d bytes, want %d): run `make report-assets` and commit", copied, pinned, len(got), len(want))
		}
	}
	if echartsJS == "" {
		t.Fatal("the embedded ECharts is empty")
	}
}

// The library is inlined into a <script> as is (template.JS): it must not contain what
// would end that script early or open an HTML comment in it.
func TestEmbeddedEChartsCanBeInlined(t *testing.T) {
	lower := strings.ToLower(echartsJS)
	for _, bad := range []string{"</script", "<!--"} {
		if i := strings.Index(lower, bad); i >= 0 {
			t.Errorf("assets/echarts.min.js contains %q at byte %d: it cannot be inlined in a <script>", bad, i)
		}
	}
	if !strings.Contains(echartsJS, `.version="5.4.3"`) {
		t.Errorf("assets/echarts.min.js does not say it is ECharts 5.4.3, the version go-echarts v2.6.1 targets")
	}
}
