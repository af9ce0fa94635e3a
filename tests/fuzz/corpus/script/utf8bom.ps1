# café € 😀
Write-Host "é"
