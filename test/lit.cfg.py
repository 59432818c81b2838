# lit configuration of quarc's FileCheck tests.
import os

import lit.formats
from lit.llvm import llvm_config
from lit.llvm.subst import ToolSubst

config.name = "QUARC"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test", ".onnxtxt"]
config.excludes = ["Inputs", "malformed", "CMakeLists.txt", "lit.cfg.py",
                   "lit.site.cfg.py", "python"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.quarc_obj_root, "test")

llvm_config.use_default_substitutions()
# RUN lines run in bash: `not` (and FileCheck) must be found on PATH.
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
config.substitutions.append(("%PYTHON", config.python_executable))
config.substitutions.append(("%quarc_src_root", config.quarc_src_root))
config.substitutions.append(("%example_plugin", config.quarc_example_plugin))
config.substitutions.append(("%test_plugins_dir", config.quarc_test_plugins_dir))

tool_dirs = [config.quarc_tools_dir, config.llvm_tools_dir]
tools = ["quarc", "quarc-opt", "quarc-translate", "llvm-objdump"]
for script in ("onnx_from_text", "onnx_to_text"):
    tools.append(ToolSubst("%" + script.replace("_", "-"), command=config.python_executable,
                           extra_args=[os.path.join(config.quarc_src_root, "test", "tools",
                                                    script + ".py")]))
llvm_config.add_tool_substitutions(tools, tool_dirs)
