/* SPDX-License-Identifier: Apache-2.0 */
/* gateway-systemd (the real SandboxOps) against a mock systemd Manager on a private dbus-daemon, as the
 * user instance: install writes the spec with its subnet and queues Reload then StartUnit; start/stop
 * queue jobs; state reads ActiveState, unit_states every unit in one ListUnitsByNames; uninstall removes the spec and starts the transient unit that runs
 * `openshell-quadlet remove NAME --user`, and when systemd refuses that, queues StopUnit and reloads. Without a bus
 * install still writes the spec while start fails. Skips without dbus-daemon. */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "alloc-util.h"
#include "fileio.h"
#include "gateway-systemd.h"
#include "mock-systemd.h"
#include "sandbox-spec.h"
#include "string-util.h"
#include "tests.h"

static char dir[64];

static void teardown(void) {
        _cleanup_free_ char *cmd = NULL;

        mock_systemd_stop();
        if (dir[0] && (cmd = strjoin("rm -rf ", dir)))
                (void) system(cmd);
        dir[0] = 0;
}

static int setup_dirs(void) {
        char buf[128];

        snprintf(dir, sizeof(dir), "/tmp/test-gateway-systemd-XXXXXX");
        if (!mkdtemp(dir))
                return -errno;
        atexit(teardown);
        snprintf(buf, sizeof(buf), "%s/config", dir);
        setenv("XDG_CONFIG_HOME", buf, 1);
        snprintf(buf, sizeof(buf), "%s/run", dir);
        setenv("XDG_RUNTIME_DIR", buf, 1);
        (void) mkdir(buf, 0700);
        snprintf(buf, sizeof(buf), "unix:path=%s/bus", dir);
        setenv("DBUS_SESSION_BUS_ADDRESS", buf, 1);
        return 0;
}

static bool mock_up;

/* The scratch directory and the mock, once for the tests that need a bus; -EOPNOTSUPP: skip. */
static int ensure_mock(void) {
        int r;

        if (!dir[0] && (r = setup_dirs()) < 0)
                return r;
        if (mock_up)
                return 0;
        r = mock_systemd_start(dir);
        mock_up = r >= 0;
        return r;
}

static SandboxSpec *demo_spec(void) {
        static const char j[] = "{\"name\":\"demo\",\"image\":\"localhost/agent:latest\",\"policy\":\"/p.json\"}";
        SandboxSpec *s = NULL;
        return sandbox_spec_from_json(j, strlen(j), &s, NULL) < 0 ? NULL : s;
}

/* Runs the loop until the mock has recorded 'want' (bounded; the outcome matters, not the time). */
static char *run_until(sd_event *e, const char *want) {
        for (int i = 0; i < 200; i++) {
                char *t = mock_systemd_calls();
                if (t && strstr(t, want))
                        return t;
                free(t);
                (void) sd_event_run(e, 50 * USEC_PER_MSEC);
        }
        return NULL;
}

TEST(without_bus) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(gateway_systemd_freep) GatewaySystemd *s = NULL;
        _cleanup_free_ char *err = NULL, *spec = NULL, *text = NULL;
        size_t n;

        ASSERT_OK(dir[0] ? 0 : setup_dirs());
        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(gateway_systemd_new(e, true, &s));
        /* No dbus-daemon yet: the spec is still installed; a start cannot be. */
        ASSERT_OK(gateway_systemd_ops.install(s, demo_spec(), false, &err));
        spec = strjoin(dir, "/config/openshell/sandboxes/demo.json");
        ASSERT_OK(read_full_file(spec, 65536, &text, &n));
        ASSERT_CONTAINS(text, "\"subnet\"");
        ASSERT_TRUE(gateway_systemd_ops.start(s, "demo", &err) < 0);
        ASSERT_CONTAINS(err, "Cannot reach systemd");
}

TEST(mock_manager) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(gateway_systemd_freep) GatewaySystemd *s = NULL;
        _cleanup_free_ char *err = NULL, *calls = NULL, *state = NULL, *spec = NULL;

        if (ensure_mock() == -EOPNOTSUPP)
                TEST_SKIP("no dbus-daemon to run a mock systemd on");
        ASSERT_TRUE(mock_up);
        ASSERT_STREQ(mock_systemd_address(), getenv("DBUS_SESSION_BUS_ADDRESS"));
        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(gateway_systemd_new(e, true, &s));
        ASSERT_OK(gateway_systemd_ops.install(s, demo_spec(), true, &err));
        calls = run_until(e, "StartUnit openshell-sandbox@demo.service");
        ASSERT_NOT_NULL(calls);
        /* The reload comes first, so the start finds the generated units. */
        ASSERT_TRUE(strstr(calls, "Reload -") < strstr(calls, "StartUnit"));

        ASSERT_OK(mock_systemd_set_unit("openshell-sandbox@demo.service", "loaded", "active"));
        ASSERT_OK(gateway_systemd_ops.state(s, "demo", &state));
        ASSERT_STREQ(state, "active");

        ASSERT_OK(gateway_systemd_ops.stop(s, "demo", &err));
        calls = mfree(calls);
        ASSERT_NOT_NULL(calls = run_until(e, "StopUnit openshell-sandbox@demo.service"));

        ASSERT_OK(gateway_systemd_ops.uninstall(s, "demo", &err));
        spec = strjoin(dir, "/config/openshell/sandboxes/demo.json");
        ASSERT_TRUE(access(spec, F_OK) < 0);
        calls = mfree(calls);
        ASSERT_NOT_NULL(calls = run_until(e, "StartTransientUnit openshell-remove-demo.service fail openshell-quadlet remove demo --user\n"));
        /* Only the transient unit: it stops, reloads and removes the Podman objects itself. */
        ASSERT_NULL(strstr(strstr(calls, "StartTransientUnit"), "StopUnit"));

        /* systemd refuses the transient unit: the units are still stopped and the spec is gone. */
        ASSERT_OK(gateway_systemd_ops.uninstall(s, "broken", &err));
        calls = mfree(calls);
        ASSERT_NOT_NULL(calls = run_until(e, "StopUnit openshell-sandbox@broken.service\nReload -\n"));
}

/* GET's progress fields: every unit in one ListUnitsByNames call, matched by name (the mock answers in
 * reverse order), "unknown" for a unit that is not loaded unless it still runs. */
TEST(unit_states) {
        _cleanup_(sd_event_unrefp) sd_event *e = NULL;
        _cleanup_(gateway_systemd_freep) GatewaySystemd *s = NULL;
        _cleanup_strv_free_ char **states = NULL;
        _cleanup_free_ char *calls = NULL;
        char *units[] = {
                (char *) "openshell-sandbox@demo.service", (char *) "openshell-sbx-demo-network.service",
                (char *) "openshell-tls-demo-volume.service", (char *) "openshell-proxy-demo.service",
                (char *) "openshell-agent-demo.service", (char *) "openshell-agent-gone.service", NULL,
        };

        if (ensure_mock() == -EOPNOTSUPP)
                TEST_SKIP("no dbus-daemon to run a mock systemd on");
        ASSERT_TRUE(mock_up);
        ASSERT_OK(mock_systemd_set_unit("openshell-sandbox@demo.service", "loaded", "activating"));
        ASSERT_OK(mock_systemd_set_unit("openshell-sbx-demo-network.service", "loaded", "active"));
        ASSERT_OK(mock_systemd_set_unit("openshell-tls-demo-volume.service", "loaded", "active"));
        ASSERT_OK(mock_systemd_set_unit("openshell-proxy-demo.service", "loaded", "failed"));
        /* the agent: never set, "not-found" -> unknown; "gone": its file vanished while it runs */
        ASSERT_OK(mock_systemd_set_unit("openshell-agent-gone.service", "not-found", "active"));
        ASSERT_OK(sd_event_new(&e));
        ASSERT_OK(gateway_systemd_new(e, true, &s));
        ASSERT_OK(gateway_systemd_ops.unit_states(s, units, &states));
        ASSERT_EQ(strv_length(states), 6);
        ASSERT_STREQ(states[0], "activating");
        ASSERT_STREQ(states[1], "active");
        ASSERT_STREQ(states[2], "active");
        ASSERT_STREQ(states[3], "failed");
        ASSERT_STREQ(states[4], "unknown");
        ASSERT_STREQ(states[5], "active");
        calls = mock_systemd_calls();
        ASSERT_CONTAINS(calls, "ListUnitsByNames openshell-sandbox@demo.service openshell-sbx-demo-network.service ");

        /* The umbrella's state through the unit object, as before. */
        {
                _cleanup_free_ char *state = NULL;
                ASSERT_OK(gateway_systemd_ops.state(s, "demo", &state));
                ASSERT_STREQ(state, "activating");
        }

        /* No systemd: an error, which GET turns into "unknown"s. */
        mock_systemd_stop();
        mock_up = false;
        states = strv_free(states);
        ASSERT_TRUE(gateway_systemd_ops.unit_states(s, units, &states) < 0);
        ASSERT_NULL(states);
}

DEFINE_TEST_MAIN();
