# Opens the LAN sync ports of cms-desktop in Windows Defender Firewall (run once per
# workstation, as administrator: right-click > « Exécuter avec PowerShell »).
#   TCP 47310  sync between the centre's workstations (mutual TLS, centre certificates only)
#   TCP 47311  pairing, only while a code is shown on the Synchronisation page
#   UDP 5353   zeroconf discovery (mDNS); without it, the address typed at pairing is used
# Only from the local subnet, and only on the Domain and Private network profiles: a PC on
# a public network (a café, a hotel) does not listen to anyone.
#Requires -RunAsAdministrator
$ErrorActionPreference = "Stop"
$rules = @(
    @{ Name = "CMS Desktop - synchronisation"; Protocol = "TCP"; Ports = @(47310, 47311) },
    @{ Name = "CMS Desktop - decouverte des postes (mDNS)"; Protocol = "UDP"; Ports = @(5353) }
)
foreach ($rule in $rules) {
    Get-NetFirewallRule -DisplayName $rule.Name -ErrorAction SilentlyContinue |
        Remove-NetFirewallRule
    New-NetFirewallRule -DisplayName $rule.Name -Direction Inbound -Action Allow `
        -Protocol $rule.Protocol -LocalPort $rule.Ports `
        -Profile Domain, Private -RemoteAddress LocalSubnet | Out-Null
    Write-Host "Regle ouverte : $($rule.Name)"
}
