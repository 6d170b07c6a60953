{
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")",
    "cuda%": "<!(node -p \"(process.env.LIBTORCH && require('fs').existsSync(process.env.LIBTORCH + '/lib/libtorch_cuda.so')) ? 1 : 0\")",
    "gloo%": "<!(node -p \"process.env.PAENET_GLOO === '0' ? 0 : [process.env.LIBTORCH ? process.env.LIBTORCH + '/include' : '', '/usr/include'].some((d) => d && require('fs').existsSync(d + '/gloo/config.h')) ? 1 : 0\")"
  },
  "targets": [{
    "target_name": "paenet_native",
    "sources": ["src/addon.cc", "src/handles.cc", "src/convert.cc", "src/ops.cc", "src/tensors.cc", "src/allocator.cc", "src/autocast.cc", "src/distributed.cc"],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions", "-fno-rtti"],
    "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17", "-std=gnu++14"],
    "cflags_cc": ["-std=c++17", "-fexceptions", "-O2", "-Wno-unused-parameter"],
    "conditions": [
      ["libtorch==''", {
        "include_dirs": ["/usr/include/torch/csrc/api/include"],
        "libraries": ["-Wl,--no-as-needed", "-ltorch", "-ltorch_cpu", "-lc10", "-Wl,--as-needed"]
      }, {
        "include_dirs": ["<(libtorch)/include", "<(libtorch)/include/torch/csrc/api/include"],
        "libraries": ["-L<(libtorch)/lib", "-Wl,-rpath,<(libtorch)/lib", "-Wl,--no-as-needed",
                      "-ltorch", "-ltorch_cpu", "-lc10", "-Wl,--as-needed"]
      }],
      ["cuda==1", {
        "libraries": ["-Wl,--no-as-needed", "-ltorch_cuda", "-lc10_cuda", "-Wl,--as-needed"],
        "defines": ["PAENET_CUDA=1"]
      }],
      ["gloo==1", {
        "defines": ["PAENET_WITH_GLOO=1"]
      }]
    ]
  }]
}
