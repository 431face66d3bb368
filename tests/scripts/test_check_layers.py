"""scripts/check_layers.py: the tree as it is passes, and an include that runs up the layers
(or a library used outside its layer) fails with the file, the line and the rule."""

import pathlib
import subprocess
import sys
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CHECK = ROOT / "scripts" / "check_layers.py"


def run(src):
    return subprocess.run([sys.executable, str(CHECK), str(src)], capture_output=True,
                          text=True, timeout=60, check=False)


class CheckLayers(unittest.TestCase):
    def tree(self, files):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        for name, text in files.items():
            path = pathlib.Path(folder.name, name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return folder.name

    def test_the_source_tree_keeps_its_layers(self):
        result = run(ROOT / "src")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_downward_includes_pass(self):
        src = self.tree({"web/api.cpp": '#include "model/snapshot.hpp"\n#include <httplib.h>\n',
                         "model/snapshot.hpp": '#include "core/wall_time.hpp"\n'})
        self.assertEqual(run(src).returncode, 0)

    def test_an_upward_include_fails_with_file_and_line(self):
        src = self.tree({"model/snapshot.hpp": '#pragma once\n#include "transport/x.hpp"\n'})
        result = run(src)
        self.assertEqual(result.returncode, 1)
        self.assertIn("model/snapshot.hpp:2: model includes transport/", result.stderr)

    def test_the_slave_side_never_sees_the_simulator(self):
        src = self.tree({"sim/bus.hpp": '#include "slave/request_handler.hpp"\n',
                         "slave/links.cpp": '#include "protocol/mbap.hpp"\n'
                                            '#include "sim/bus.hpp"\n'})
        result = run(src)
        self.assertEqual(result.returncode, 1)
        self.assertIn("slave/links.cpp:2: slave includes sim/", result.stderr)
        self.assertNotIn("sim/bus.hpp:1", result.stderr)  # the simulator may use it

    def test_a_library_outside_its_layer_fails(self):
        src = self.tree({"web/api.cpp": "#include <CLI/CLI.hpp>\n"})
        result = run(src)
        self.assertEqual(result.returncode, 1)
        self.assertIn("web/api.cpp:1: <CLI/CLI.hpp> belongs to app, not web", result.stderr)

    def test_an_unknown_folder_fails(self):
        result = run(self.tree({"extra/x.cpp": "\n"}))
        self.assertEqual(result.returncode, 1)
        self.assertIn("folder 'extra' is not a known layer", result.stderr)


if __name__ == "__main__":
    unittest.main()
