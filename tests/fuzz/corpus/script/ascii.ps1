param([string]$Name = "world")
Write-Host "Hello, $Name"
