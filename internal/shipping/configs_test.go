package shipping

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/fluidb/fluidb/internal/testutil"
	"github.com/fluidb/fluidb/server/config"
)

func configsDir() string { return filepath.Join(testutil.RepoRoot(), "configs") }

// checkedBy names, for every file under configs/, the test that runs it
// through the program it is for. A new file without a test fails
// TestEveryShippedFileIsChecked.
var checkedBy = map[string]string{
	"fluidb.conf":                      "TestFluidbLoadsItsConfigs",
	"instance-a.conf":                  "TestFluidbLoadsItsConfigs, TestHAProxyFailsOverActivePair, TestNutcrackerOverActivePairs",
	"instance-b.conf":                  "TestFluidbLoadsItsConfigs, TestHAProxyFailsOverActivePair, TestNutcrackerOverActivePairs",
	"haproxy.cfg":                      "TestHAProxyAcceptsConfig, TestHAProxyFailsOverActivePair, TestNutcrackerOverActivePairs",
	"nutcracker.yml":                   "TestNutcrackerAcceptsConfig, TestNutcrackerOverActivePairs",
	"fluidb.service":                   "TestSystemdAcceptsUnit",
	"packaging/sysusers.d/fluidb.conf": "TestPackageScriptsCreateUserAndDirs",
	"packaging/tmpfiles.d/fluidb.conf": "TestPackageScriptsCreateUserAndDirs",
	"packaging/postinstall.sh":         "TestPackageScriptsCreateUserAndDirs",
	"packaging/preremove.sh":           "TestPackageScriptsParse",
	"packaging/postremove.sh":          "TestPackageScriptsParse",
}

func TestEveryShippedFileIsChecked(t *testing.T) {
	seen := map[string]bool{}
	err := filepath.WalkDir(configsDir(), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(configsDir(), path)
		rel = filepath.ToSlash(rel)
		seen[rel] = true
		if _, ok := checkedBy[rel]; !ok {
			t.Errorf("configs/%s is checked by no test: add one and list it in checkedBy", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for rel := range checkedBy {
		if !seen[rel] {
			t.Errorf("checkedBy lists configs/%s, which does not exist", rel)
		}
	}
}

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(configsDir(), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// packagedDir is where the packaged fluidb.conf keeps its data.
const packagedDir = "/var/lib/fluidb"

// loadable returns the path of a copy of configs/rel that loads on this
// machine: the packaged fluidb.conf points dir at /var/lib/fluidb, which
// exists only where the package is installed, so the copy points it at a
// temporary directory instead.
func loadable(t *testing.T, rel string) string {
	t.Helper()
	text := read(t, rel)
	line := "\ndir " + packagedDir + "\n"
	if !strings.Contains(text, line) {
		return filepath.Join(configsDir(), rel)
	}
	if st, err := os.Stat(packagedDir); err == nil && st.IsDir() {
		return filepath.Join(configsDir(), rel)
	}
	dir := t.TempDir()
	text = strings.Replace(text, line, "\ndir "+config.Quote(dir)+"\n", 1)
	path := filepath.Join(dir, filepath.Base(rel))
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFluidbLoadsItsConfigs(t *testing.T) {
	bin := testutil.Binary(t)
	files, err := filepath.Glob(filepath.Join(configsDir(), "*.conf"))
	if err != nil || len(files) < 3 {
		t.Fatalf("configs/*.conf: %v, %v", files, err)
	}
	for _, f := range files {
		rel := filepath.Base(f)
		t.Run(rel, func(t *testing.T) {
			cmd := exec.Command(bin, "serve", loadable(t, rel), "--test-config")
			cmd.Dir = configsDir() // relative paths, as a user would run it
			out, err := cmd.CombinedOutput()
			if err != nil || !strings.Contains(string(out), "configuration OK") {
				t.Fatalf("fluidb serve %s --test-config: %v\n%s", rel, err, out)
			}
		})
	}
}

func load(t *testing.T, rel string) *config.Config {
	t.Helper()
	c, err := config.Load(loadable(t, rel), nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The files describe one setup: the instances name each other and share a
// password, which HAProxy's check and twemproxy use too; the package's
// configuration, unit and user agree on paths and names.
func TestShippedFilesAgree(t *testing.T) {
	a, b := load(t, "instance-a.conf"), load(t, "instance-b.conf")
	for _, n := range []struct {
		name       string
		self, peer *config.Config
	}{{"instance-a", a, b}, {"instance-b", b, a}} {
		c := n.self
		if !c.ActiveReplica || c.ReplicaReadOnly {
			t.Errorf("%s: active-replica %v, replica-read-only %v", n.name, c.ActiveReplica, c.ReplicaReadOnly)
		}
		if c.ReplicaOf == nil || c.ReplicaOf.Port != n.peer.Port || c.ReplicaOf.Host != "127.0.0.1" {
			t.Errorf("%s: replicaof %v, want 127.0.0.1 %d", n.name, c.ReplicaOf, n.peer.Port)
		}
		if c.Requirepass == "" || c.Masterauth != n.peer.Requirepass {
			t.Errorf("%s: masterauth %q does not match the peer's requirepass %q", n.name, c.Masterauth, n.peer.Requirepass)
		}
	}
	if a.Port == b.Port || a.DBFilename == b.DBFilename || a.AppendDirname == b.AppendDirname {
		t.Errorf("instances share a port or file names: %d/%d %s/%s %s/%s",
			a.Port, b.Port, a.DBFilename, b.DBFilename, a.AppendDirname, b.AppendDirname)
	}
	pass := a.Requirepass

	hap := read(t, "haproxy.cfg")
	if !strings.Contains(hap, `tcp-check send AUTH\ `+pass+`\r\n`) {
		t.Errorf("haproxy.cfg does not send AUTH with the instances' password %q", pass)
	}
	for _, p := range []int{a.Port, b.Port} {
		if n := strings.Count(hap, " 127.0.0.1:"+itoa(p)+"\n"); n != 2 {
			t.Errorf("haproxy.cfg names node 127.0.0.1:%d in %d back ends, want 2", p, n)
		}
	}
	nut := read(t, "nutcracker.yml")
	if !strings.Contains(nut, "redis_auth: "+pass+"\n") {
		t.Errorf("nutcracker.yml: redis_auth is not the instances' password %q", pass)
	}
	for _, fe := range []string{"6391", "6392"} {
		if !strings.Contains(hap, "bind 127.0.0.1:"+fe+"\n") || !strings.Contains(nut, "127.0.0.1:"+fe+":1 ") {
			t.Errorf("nutcracker.yml and haproxy.cfg disagree on the pair front end :%s", fe)
		}
	}

	pkg := load(t, "fluidb.conf")
	if len(pkg.Bind) != 1 || pkg.Bind[0] != "127.0.0.1" || !pkg.ProtectedMode {
		t.Errorf("packaged fluidb.conf: bind %v, protected-mode %v; want 127.0.0.1 only, protected", pkg.Bind, pkg.ProtectedMode)
	}
	if !strings.Contains(read(t, "fluidb.conf"), "\ndir "+packagedDir+"\n") {
		t.Errorf("packaged fluidb.conf does not set dir %s", packagedDir)
	}
	unit := read(t, "fluidb.service")
	for _, want := range []string{
		"ExecStart=/usr/bin/fluidb serve /etc/fluidb/fluidb.conf ",
		"User=fluidb\n", "Group=fluidb\n", "ReadWritePaths=" + packagedDir + "\n",
		"ProtectSystem=strict\n", "NoNewPrivileges=true\n", "PrivateTmp=true\n", "ProtectHome=true\n",
	} {
		if !strings.Contains(unit, want) {
			t.Errorf("fluidb.service lacks %q", want)
		}
	}
	if !regexp.MustCompile(`(?m)^u fluidb - .* ` + packagedDir + ` `).MatchString(read(t, "packaging/sysusers.d/fluidb.conf")) {
		t.Errorf("sysusers.d/fluidb.conf does not create user fluidb with home %s", packagedDir)
	}
	if !regexp.MustCompile(`(?m)^d ` + packagedDir + ` 0750 fluidb fluidb `).MatchString(read(t, "packaging/tmpfiles.d/fluidb.conf")) {
		t.Errorf("tmpfiles.d/fluidb.conf does not create %s for fluidb", packagedDir)
	}
	gr, err := os.ReadFile(filepath.Join(testutil.RepoRoot(), ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`src: configs/fluidb.conf\n\s+dst: /etc/fluidb/fluidb.conf\n\s+type: config\|noreplace\n`).Match(gr) {
		t.Error(".goreleaser.yaml does not install configs/fluidb.conf as /etc/fluidb/fluidb.conf, config|noreplace")
	}
}

func TestHAProxyAcceptsConfig(t *testing.T) {
	haproxy := testutil.Need(t, "haproxy")
	out, err := exec.Command(haproxy, "-c", "-f", filepath.Join(configsDir(), "haproxy.cfg")).CombinedOutput()
	if err != nil {
		t.Fatalf("haproxy -c: %v\n%s", err, out)
	}
	if strings.Contains(strings.ToLower(string(out)), "warning") {
		t.Fatalf("haproxy -c warns:\n%s", out)
	}
}

func TestNutcrackerAcceptsConfig(t *testing.T) {
	nutcracker := testutil.Need(t, "nutcracker")
	out, err := exec.Command(nutcracker, "-t", "-c", filepath.Join(configsDir(), "nutcracker.yml")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "syntax is ok") {
		t.Fatalf("nutcracker -t: %v\n%s", err, out)
	}
}

// systemd-analyze verify insists that ExecStart's program exists, so the
// unit is verified with the binary path pointing at a freshly built one.
func TestSystemdAcceptsUnit(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed (the unit is checked where systemd is)")
	}
	unit := read(t, "fluidb.service")
	if !strings.Contains(unit, "ExecStart=/usr/bin/fluidb ") {
		t.Fatal("fluidb.service does not start /usr/bin/fluidb")
	}
	path := filepath.Join(t.TempDir(), "fluidb.service")
	unit = strings.Replace(unit, "ExecStart=/usr/bin/fluidb ", "ExecStart="+testutil.Binary(t)+" ", 1)
	if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestPackageScriptsParse(t *testing.T) {
	scripts, _ := filepath.Glob(filepath.Join(configsDir(), "packaging", "*.sh"))
	if len(scripts) != 3 {
		t.Fatalf("packaging scripts: %v", scripts)
	}
	for _, s := range scripts {
		if out, err := exec.Command("sh", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("sh -n %s: %v\n%s", filepath.Base(s), err, out)
		}
		if sc, err := exec.LookPath("shellcheck"); err == nil {
			if out, err := exec.Command(sc, "-s", "sh", s).CombinedOutput(); err != nil {
				t.Errorf("shellcheck %s:\n%s", filepath.Base(s), out)
			}
		}
	}
}

// The post-install script, run against a directory laid out like an
// installed package (DPKG_ROOT), creates the user with systemd-sysusers and
// the data directory with systemd-tmpfiles from the shipped files, and lets
// only that user's group read the configuration.
func TestPackageScriptsCreateUserAndDirs(t *testing.T) {
	for _, prog := range []string{"systemd-sysusers", "systemd-tmpfiles"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("%s not installed", prog)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: the script changes file owners")
	}
	root := t.TempDir()
	put := func(src, dst string, mode os.FileMode) {
		t.Helper()
		dst = filepath.Join(root, dst)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, []byte(read(t, src)), mode); err != nil {
			t.Fatal(err)
		}
	}
	put("packaging/sysusers.d/fluidb.conf", "usr/lib/sysusers.d/fluidb.conf", 0o644)
	put("packaging/tmpfiles.d/fluidb.conf", "usr/lib/tmpfiles.d/fluidb.conf", 0o644)
	put("fluidb.conf", "etc/fluidb/fluidb.conf", 0o640)
	cmd := exec.Command("sh", filepath.Join(configsDir(), "packaging", "postinstall.sh"), "configure", "")
	cmd.Env = append(os.Environ(), "DPKG_ROOT="+root)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("postinstall.sh configure: %v\n%s", err, out)
	}
	passwd, err := os.ReadFile(filepath.Join(root, "etc", "passwd"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^fluidb:x:(\d+):(\d+):[^:]*:` + packagedDir + `:/usr/sbin/nologin$`).FindSubmatch(passwd)
	if m == nil {
		t.Fatalf("no fluidb user in etc/passwd:\n%s", passwd)
	}
	uid, gid := string(m[1]), string(m[2])
	for _, want := range []struct {
		path, owner, mode string
	}{
		{packagedDir, uid + ":" + gid, "750"},
		{"/etc/fluidb", "0:" + gid, "750"},
		{"/etc/fluidb/fluidb.conf", "0:" + gid, "640"},
	} {
		out, err := exec.Command("stat", "-c", "%u:%g %a", filepath.Join(root, want.path)).CombinedOutput()
		if got := strings.TrimSpace(string(out)); err != nil || got != want.owner+" "+want.mode {
			t.Errorf("%s: %q (%v), want %s %s", want.path, got, err, want.owner, want.mode)
		}
	}
	// Run again, as on upgrades: one where the administrator chose a mode
	// (kept), one that brought the package's root:root file back (fixed).
	conf := filepath.Join(root, "etc/fluidb/fluidb.conf")
	upgrade := func() {
		t.Helper()
		cmd := exec.Command("sh", filepath.Join(configsDir(), "packaging", "postinstall.sh"), "configure", "0.1.0")
		cmd.Env = append(os.Environ(), "DPKG_ROOT="+root)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("postinstall.sh on upgrade: %v\n%s", err, out)
		}
	}
	if err := os.Chmod(conf, 0o600); err != nil {
		t.Fatal(err)
	}
	upgrade()
	if st, err := os.Stat(conf); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("upgrade changed the administrator's mode: %v %v", st.Mode(), err)
	}
	if err := os.Chown(conf, 0, 0); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(conf, 0o640); err != nil {
		t.Fatal(err)
	}
	upgrade()
	out, err := exec.Command("stat", "-c", "%u:%g %a", conf).CombinedOutput()
	if got := strings.TrimSpace(string(out)); err != nil || got != "0:"+gid+" 640" {
		t.Errorf("after an upgrade restored root:root, fluidb.conf is %q (%v), want 0:%s 640", got, err, gid)
	}
}
