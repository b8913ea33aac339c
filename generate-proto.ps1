# Regenerates the protobuf and gRPC bindings from proto/ on Windows.
# Same generator as on every other platform: tools/generate_proto.py.
# Usage: ./generate-proto.ps1            (write the bindings)
#        ./generate-proto.ps1 -Check     (fail when committed bindings are out of date)
param([switch]$Check)
$ErrorActionPreference = 'Stop'
Push-Location $PSScriptRoot
try {
    $python = if ($env:PYTHON) { $env:PYTHON } else { 'python' }
    $arguments = @('tools/generate_proto.py')
    if ($Check) { $arguments += '--check' }
    & $python @arguments
    exit $LASTEXITCODE
} finally {
    Pop-Location
}
