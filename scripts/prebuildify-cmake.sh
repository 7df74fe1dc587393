#!/bin/sh
# prebuildify calls this in place of node-gyp; it collects build/Release/*.node afterwards.
exec npx cmake-js rebuild --arch "${PREBUILD_ARCH:-x64}"
