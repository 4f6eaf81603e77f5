; Inno Setup 6 script: installs the PyInstaller bundle (dist\cms-desktop, built on Windows with
; installer\cms-desktop.spec) for all the users of the PC, adds the Start-menu entry and opens
; the LAN sync ports with open-sync-ports.ps1. Built by .github/workflows/windows-installer.yml:
;   ISCC.exe /DAppVersion=0.1.0 installer\windows\cms-desktop.iss  ->  dist\cms-desktop-0.1.0-setup.exe
; Silent install for the town's IT (deployment tools): cms-desktop-0.1.0-setup.exe /VERYSILENT
; Upgrade: run the newer setup over the older one (same AppId). Each user's data
; (%LOCALAPPDATA%\cms-desktop) is never touched, neither by an upgrade nor by the uninstaller.
; Not run here (no Windows machine in this project's CI): see README, « Installer ».

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif

[Setup]
; Never change: Windows recognises upgrades and the uninstaller by it.
AppId={{652E7B37-8696-428B-8F03-D48D23574CE2}
AppName=CMS Desktop
AppVersion={#AppVersion}
AppPublisher=Centre municipal de santé
DefaultDirName={autopf}\CMS Desktop
DefaultGroupName=CMS Desktop
DisableProgramGroupPage=yes
; Per machine: Program Files and the common Start menu; the firewall rules need it too.
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=cms-desktop-{#AppVersion}-setup
SetupIconFile=..\..\resources\icons\cms-desktop.ico
UninstallDisplayIcon={app}\cms-desktop.exe
LicenseFile=..\..\resources\THIRD-PARTY-LICENSES.txt
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
; An upgrade closes the running application rather than leaving files half replaced.
CloseApplications=yes

[Languages]
Name: "french"; MessagesFile: "compiler:Languages\French.isl"

[InstallDelete]
; An upgrade starts from a clean library folder: no library of the previous version remains.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "..\..\dist\cms-desktop\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "open-sync-ports.ps1"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{autoprograms}\CMS Desktop"; Filename: "{app}\cms-desktop.exe"; Comment: "Agenda, dossier patient et ordonnances"

[Run]
; The same script an administrator can run by hand (README, « Several workstations »).
Filename: "{sys}\WindowsPowerShell\v1.0\powershell.exe"; Parameters: "-NoProfile -ExecutionPolicy Bypass -File ""{app}\open-sync-ports.ps1"""; StatusMsg: "Ouverture des ports de synchronisation…"; Flags: runhidden waituntilterminated
Filename: "{app}\cms-desktop.exe"; Description: "Lancer CMS Desktop"; Flags: nowait postinstall skipifsilent runasoriginaluser

[UninstallRun]
; The firewall rules open-sync-ports.ps1 made (their names start with "CMS Desktop - ").
Filename: "{sys}\WindowsPowerShell\v1.0\powershell.exe"; Parameters: "-NoProfile -Command ""Get-NetFirewallRule -DisplayName 'CMS Desktop - *' -ErrorAction SilentlyContinue | Remove-NetFirewallRule"""; Flags: runhidden waituntilterminated; RunOnceId: "RemoveSyncFirewallRules"
