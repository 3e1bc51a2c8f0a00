"""nacl_module: an untrusted module (a static executable) built for sel_ldr.

Modules are built plain whatever the configuration: sanitizer runtimes open /proc files and
map shadow memory at fixed addresses, which the module's seccomp policy rightly refuses. A
transition resets copt, linkopt and features for the module and everything it links.
"""

_PLAIN_COPTS = ["-O2", "-Wall", "-Wextra", "-Werror", "-Wno-missing-field-initializers"]

def _plain_transition_impl(settings, attr):
    return {
        "//command_line_option:copt": _PLAIN_COPTS,
        "//command_line_option:linkopt": [],
        "//command_line_option:features": [],
    }

_plain_transition = transition(
    implementation = _plain_transition_impl,
    inputs = [],
    outputs = [
        "//command_line_option:copt",
        "//command_line_option:linkopt",
        "//command_line_option:features",
    ],
)

def _plain_module_impl(ctx):
    binary = ctx.attr.binary[0][DefaultInfo].files_to_run.executable
    out = ctx.actions.declare_file(ctx.attr.name + ".nexe")
    ctx.actions.symlink(output = out, target_file = binary)
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

_plain_module = rule(
    implementation = _plain_module_impl,
    attrs = {
        "binary": attr.label(cfg = _plain_transition, mandatory = True),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

def nacl_module(name, srcs, deps = [], copts = [], visibility = None, **kwargs):
    """A module `name`.nexe from C/C++ `srcs`, linked statically with the SDK.

    C sources are compiled with _GNU_SOURCE defined, as by tools/nacl-cc.
    """
    native.cc_binary(
        name = name + "_binary",
        srcs = srcs,
        deps = deps + ["//syscalls/sdk"],
        # As tools/nacl-cc: C is compiled with _GNU_SOURCE defined (see nacl/gnu_source.h).
        copts = ["-include", "nacl/gnu_source.h"] + copts,
        linkopts = ["-static", "-pthread"],
        tags = ["manual"],
        visibility = ["//visibility:private"],
        **kwargs
    )
    _plain_module(
        name = name,
        binary = ":" + name + "_binary",
        visibility = visibility,
    )
