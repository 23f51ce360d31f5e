"""Synthetic but realistic IT-support articles and search queries, generated deterministically.

Everything here depends only on the ``random.Random`` passed in, so a seed gives the same
library and the same queries on every machine. Bodies follow the portal's uniform shape
(## Symptoms, ## Applies to, ## Cause, ## Resolution, optionally ## More help) and run to
250-400 words; about 5% of articles are staff-only.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

# -- vocabulary ----------------------------------------------------------------------------
# Per category: subcategories with the things people have trouble with, symptom templates,
# error messages, causes, steps and menu paths, and the short phrases people type.

CATALOGUE: dict[str, dict] = {
    "Accounts and passwords": {
        "subs": {
            "Passwords": ["password", "network password", "Windows password", "passphrase"],
            "Account lockout": ["domain account", "user account", "staff account"],
            "Single sign-on": ["single sign-on", "Okta dashboard", "company login page"],
            "Access requests": ["shared folder access", "admin rights", "application access"],
        },
        "symptoms": [
            "{thing} not accepted",
            "{thing} expired",
            "Locked out of {thing}",
            "Forgot {thing}",
            "{thing} keeps asking me to sign in",
            "Cannot reset {thing}",
        ],
        "errors": [
            "The user name or password is incorrect.",
            "Your account has been locked. Contact your administrator.",
            "Your password has expired and must be changed.",
            "AADSTS50126: Error validating credentials due to invalid username or password.",
            "The referenced account is currently locked out and may not be logged on to.",
            "Access denied. You do not have permission to open this resource.",
        ],
        "causes": [
            "The password was changed on one device but an old copy is still saved on another, "
            "so the phone or laptop keeps retrying with the old password and locks the account.",
            "Passwords expire every 90 days and the reminder emails were filtered as junk.",
            "The new password does not meet the complexity rules: at least 14 characters, "
            "no part of your name, and none of your last 24 passwords.",
            "The single sign-on session token expired while the browser was left open overnight.",
            "Access to the resource is granted through a group membership that has not been "
            "approved by the resource owner yet.",
        ],
        "steps": [
            "Open the self-service password reset page at {url} and follow the prompts.",
            "Sign out of every device that still uses the old {thing}, including your phone.",
            "Remove saved credentials: open {menu} and delete every entry that starts "
            "with MicrosoftOffice or {host}.",
            "Wait {minutes} minutes for the lockout to clear before you try again.",
            "Choose a passphrase of four or more unrelated words, for example "
            "'copper kettle winter harbour'.",
            "Request access through the catalogue item 'Access to {thing}' and name the owner.",
        ],
        "menus": [
            "Control Panel > Credential Manager > Windows Credentials",
            "Settings > Accounts > Sign-in options",
            "Keychain Access > login > Passwords",
        ],
        "typed": [
            "forgot password",
            "locked out",
            "password expired",
            "cant sign in",
            "reset password",
            "access denied",
            "login not working",
        ],
    },
    "Multi-factor authentication": {
        "subs": {
            "Authenticator app": ["Microsoft Authenticator", "authenticator app", "Okta Verify"],
            "Codes and texts": ["verification code", "SMS code", "backup codes"],
            "Security keys": ["YubiKey", "security key", "FIDO2 key"],
        },
        "symptoms": [
            "{thing} not working on new phone",
            "{thing} rejected",
            "No notification from {thing}",
            "{thing} lost or broken",
            "{thing} keeps prompting",
        ],
        "errors": [
            "The code you entered is incorrect. Please try again.",
            "We didn't receive a response. Approve the request on your phone.",
            "Your sign-in was blocked because of unusual activity.",
            "AADSTS50076: You must use multi-factor authentication to access this resource.",
            "The security key could not be verified.",
        ],
        "causes": [
            "The authenticator app is tied to the old phone and was not moved across.",
            "The phone's clock is out of step with network time, so one-time codes are rejected.",
            "Battery optimisation on Android stops the app from receiving push notifications.",
            "The security key was registered for a different account or its PIN was reset.",
        ],
        "steps": [
            "Open {url} on a laptop and choose Security info to add a new sign-in method.",
            "On the phone, turn on automatic date and time under {menu}.",
            "Allow notifications for {thing} and exclude it from battery optimisation.",
            "Use one of your printed backup codes to sign in once, then register the new phone.",
            "Ask the service desk for a temporary access pass valid for {minutes} minutes.",
        ],
        "menus": [
            "Settings > General > Date & Time",
            "Settings > System > Date and time",
            "Settings > Apps > Notifications",
        ],
        "typed": [
            "mfa not working",
            "authenticator new phone",
            "no push notification",
            "code rejected",
            "2fa",
            "lost phone mfa",
        ],
    },
    "Email and calendar": {
        "subs": {
            "Outlook": ["Outlook", "Outlook for Mac", "new Outlook", "Outlook on the web"],
            "Shared mailboxes": ["shared mailbox", "team inbox", "distribution list"],
            "Calendar": ["calendar", "meeting invitation", "room booking"],
            "Junk and phishing": ["junk folder", "quarantine", "spam filter"],
        },
        "symptoms": [
            "{thing} won't open",
            "{thing} stuck on loading profile",
            "{thing} not syncing",
            "Emails stuck in outbox in {thing}",
            "{thing} keeps crashing",
            "Cannot see {thing}",
            "{thing} is full",
        ],
        "errors": [
            "Cannot start Microsoft Outlook. Cannot open the Outlook window.",
            "Your mailbox is almost full.",
            "The operation failed. An object could not be found.",
            "Sending reported error 0x800CCC0F: The connection to the server was interrupted.",
            "Outlook is trying to retrieve data from the Microsoft Exchange Server.",
            "Something went wrong [1001]",
        ],
        "causes": [
            "A COM add-in fails to load and holds up the start of Outlook.",
            "The offline data file (OST) is damaged or has grown past 50 GB.",
            "The mailbox has reached its quota, so the server refuses new messages.",
            "Calendar permissions were granted to the person but not to the delegate group.",
            "Messages from the sender were held by the spam filter as bulk mail.",
        ],
        "steps": [
            "Start {thing} in safe mode by holding Ctrl while you click its icon.",
            "Turn off add-ins under {menu} and restart {thing}.",
            "Check webmail at {url}; if mail works there the mailbox itself is fine.",
            "Create a new profile under Control Panel > Mail > Show Profiles.",
            "Empty Deleted Items and archive mail older than two years to free space.",
            "Open the quarantine portal and release the message if it is genuine.",
        ],
        "menus": [
            "File > Options > Add-ins > COM Add-ins",
            "File > Account Settings > Account Settings",
            "Calendar > Sharing Permissions",
            "Tools > Accounts",
        ],
        "typed": [
            "outlook wont open",
            "email not sending",
            "mailbox full",
            "calendar sharing",
            "shared mailbox",
            "emails missing",
            "outlook crashing",
        ],
    },
    "Printing and scanning": {
        "subs": {
            "Printers": ["printer", "HP LaserJet M479", "Canon imageRUNNER", "label printer"],
            "Scanning": ["scanner", "scan to email", "document feeder"],
            "Print queues": ["print queue", "follow-me printing", "print server"],
        },
        "symptoms": [
            "{thing} shows offline",
            "{thing} prints blank pages",
            "Paper jam on {thing}",
            "{thing} not printing",
            "Cannot add {thing}",
            "{thing} stuck",
        ],
        "errors": [
            "Printer offline. The printer is not responding.",
            "Windows cannot connect to the printer. Operation failed with error 0x0000011b.",
            "Error - Printing. Document could not be printed.",
            "Scan to email failed: SMTP authentication error.",
            "Paper jam in tray 2. Open door A.",
        ],
        "causes": [
            "A stuck job at the top of the queue blocks every job behind it.",
            "The printer driver was replaced by a generic one during a Windows update.",
            "The printer picked up a new IP address and the port still points at the old one.",
            "Scan to email uses an app password that expired when the service account changed.",
        ],
        "steps": [
            "Open {menu}, select {thing} and cancel every document in the queue.",
            "Restart the Print Spooler service, or simply restart the laptop.",
            "Remove {thing} and add it again from {host} so the right driver installs.",
            "Print a configuration page from the printer panel and note the IP address.",
            "Clear the paper path: open door A, pull the sheet gently, close every tray.",
            "Badge in at any follow-me printer to release jobs held for up to {minutes} minutes.",
        ],
        "menus": [
            "Settings > Bluetooth & devices > Printers & scanners",
            "System Settings > Printers & Scanners",
            "Control Panel > Devices and Printers",
        ],
        "typed": [
            "printer offline",
            "not printing",
            "paper jam",
            "scan to email",
            "add printer",
            "print queue stuck",
            "blank pages",
        ],
    },
    "Network and Wi-Fi": {
        "subs": {
            "Wi-Fi": ["Wi-Fi", "wireless network", "guest Wi-Fi", "CorpNet wireless"],
            "Wired network": ["network cable", "Ethernet port", "network adapter"],
            "DNS and proxy": ["DNS", "proxy", "intranet site"],
        },
        "symptoms": [
            "{thing} keeps disconnecting",
            "{thing} connected but no internet",
            "{thing} very slow",
            "Cannot connect to {thing}",
            "{thing} not found",
        ],
        "errors": [
            "No internet, secured.",
            "Can't connect to this network.",
            "DNS_PROBE_FINISHED_NXDOMAIN",
            "ERR_PROXY_CONNECTION_FAILED",
            "Windows could not automatically detect this network's proxy settings.",
            "An IP address conflict was detected.",
        ],
        "causes": [
            "The laptop roams to a weak access point and drops the connection.",
            "The Wi-Fi certificate expired and the laptop has not fetched the new one.",
            "A stale DNS cache still holds the old address of the site.",
            "Power saving turns the network adapter off after a few minutes.",
            "A home router hands out an address range that clashes with the office network.",
        ],
        "steps": [
            "Forget the {thing} network under {menu} and join it again.",
            "Run ipconfig /flushdns and ipconfig /renew in a command prompt.",
            "Turn off 'Allow the computer to turn off this device to save power' for the adapter.",
            "Move closer to an access point, or plug into a wired port to compare.",
            "Restart the home router and wait {minutes} minutes before testing again.",
            "Check whether {url} opens; if it does, the problem is one site, not the network.",
        ],
        "menus": [
            "Settings > Network & internet > Wi-Fi > Manage known networks",
            "System Settings > Wi-Fi > Details",
            "Device Manager > Network adapters > Properties > Power Management",
        ],
        "typed": [
            "wifi keeps dropping",
            "no internet",
            "slow network",
            "cant connect wifi",
            "dns error",
            "proxy error",
        ],
    },
    "VPN and remote access": {
        "subs": {
            "VPN client": ["VPN", "GlobalProtect", "Cisco AnyConnect", "FortiClient"],
            "Remote desktop": ["Remote Desktop", "jump host", "RDP session"],
            "Virtual desktops": ["Citrix Workspace", "virtual desktop", "Azure Virtual Desktop"],
        },
        "symptoms": [
            "{thing} won't connect",
            "{thing} disconnects every few minutes",
            "{thing} very slow from home",
            "{thing} connected but cannot reach intranet",
            "{thing} keeps asking for credentials",
        ],
        "errors": [
            "The VPN connection was terminated by the remote computer. Error 809.",
            "Gateway portal.example.com: authentication failed.",
            "Remote Desktop can't connect to the remote computer.",
            "An internal error has occurred. (0x4)",
            "Cannot connect to the Citrix Workspace server.",
        ],
        "causes": [
            "The home router or hotel network blocks the ports the VPN uses.",
            "The VPN client is an old version that the gateway no longer accepts.",
            "Split tunnelling sends intranet traffic outside the tunnel.",
            "The remote computer went to sleep or was switched off.",
        ],
        "steps": [
            "Quit {thing} fully from the system tray and start it again.",
            "Update {thing} to version {version} from the Company Portal.",
            "Connect to the gateway {host} instead of the automatic choice.",
            "Try a phone hotspot to see whether your home network blocks the VPN.",
            "Ask a colleague in the office to wake the remote computer, or use Wake-on-LAN.",
        ],
        "menus": [
            "GlobalProtect > Settings > General",
            "Citrix Workspace > Accounts",
            "Remote Desktop Connection > Show Options > Advanced",
        ],
        "typed": [
            "vpn not connecting",
            "vpn error 809",
            "remote desktop cant connect",
            "citrix slow",
            "work from home vpn",
        ],
    },
    "Laptops and desktops": {
        "subs": {
            "Windows": ["Windows laptop", "Windows 11", "Dell Latitude 5440", "Lenovo ThinkPad"],
            "macOS": ["MacBook Pro", "MacBook Air", "macOS"],
            "Docks and displays": ["docking station", "external monitor", "USB-C dock"],
            "Battery and power": ["battery", "charger", "power button"],
        },
        "symptoms": [
            "{thing} very slow",
            "{thing} won't turn on",
            "{thing} blue screen",
            "{thing} not detecting monitor",
            "{thing} overheating",
            "{thing} not charging",
            "{thing} stuck on updates",
        ],
        "errors": [
            "Your PC ran into a problem and needs to restart. Stop code: IRQL_NOT_LESS_OR_EQUAL",
            "Working on updates 30% complete. Don't turn off your computer.",
            "No signal detected.",
            "Plugged in, not charging.",
            "Your startup disk is almost full.",
            "BitLocker recovery: enter the recovery key for this drive.",
        ],
        "causes": [
            "A pending update needs a full restart, not the fast start the lid close gives.",
            "The dock firmware is older than the laptop's USB-C driver expects.",
            "The disk is almost full, so Windows cannot page memory or install updates.",
            "The battery has worn below 60% of its design capacity.",
            "Dust in the fan makes the laptop throttle to stay cool.",
        ],
        "steps": [
            "Save your work and choose Restart, not Shut down, from the Start menu.",
            "Unplug {thing}, wait ten seconds and plug it back in.",
            "Update the dock firmware and drivers from the Company Portal.",
            "Free disk space under {menu}; aim for at least 20 GB free.",
            "Hold the power button for 15 seconds to force a full power cycle.",
            "Run the vendor diagnostics (press F12 at start-up on Dell, F10 on HP).",
            "Enter the BitLocker recovery key from {url} when asked.",
        ],
        "menus": [
            "Settings > System > Storage > Cleanup recommendations",
            "Settings > System > Display > Multiple displays",
            "Apple menu > System Settings > General > Storage",
            "Settings > Windows Update > Update history",
        ],
        "typed": [
            "laptop slow",
            "second monitor not working",
            "dock not working",
            "blue screen",
            "laptop wont turn on",
            "not charging",
            "bitlocker recovery key",
        ],
    },
    "Mobile devices": {
        "subs": {
            "iPhone and iPad": ["iPhone", "iPad", "iOS"],
            "Android": ["Android phone", "Samsung Galaxy", "Pixel phone"],
            "Device enrolment": ["Intune Company Portal", "work profile", "mobile device"],
        },
        "symptoms": [
            "Work email not syncing on {thing}",
            "Cannot enrol {thing}",
            "{thing} says device not compliant",
            "{thing} lost or stolen",
            "Apps missing on {thing}",
        ],
        "errors": [
            "Your device doesn't meet your organisation's requirements.",
            "Couldn't enrol this device. Contact your IT admin.",
            "Cannot get mail. The connection to the server failed.",
            "This device is not compliant. Update the operating system.",
        ],
        "causes": [
            "The phone runs an operating system version below the compliance minimum.",
            "The device was enrolled under a previous owner and never wiped.",
            "The work profile was removed when the phone was reset.",
            "Background app refresh is off for the mail app.",
        ],
        "steps": [
            "Update {thing} to the latest version under {menu}.",
            "Open Company Portal, sign in and tap Check status.",
            "Remove the work account from {thing} and add it again.",
            "If the phone is lost, report it at {url} so it can be wiped remotely.",
            "Install missing apps from Company Portal, not from the public store.",
        ],
        "menus": [
            "Settings > General > Software Update",
            "Settings > System > Software update",
            "Settings > Accounts > Work",
        ],
        "typed": [
            "email on phone",
            "enrol phone",
            "not compliant",
            "lost phone",
            "company portal",
            "iphone mail not syncing",
        ],
    },
    "Software and apps": {
        "subs": {
            "Microsoft 365 apps": ["Excel", "Word", "PowerPoint", "OneNote"],
            "Adobe": ["Adobe Acrobat", "Acrobat Reader", "Adobe Creative Cloud"],
            "Installing software": ["Company Portal", "Software Center", "licence"],
            "Browsers": ["Microsoft Edge", "Google Chrome", "Firefox"],
        },
        "symptoms": [
            "{thing} keeps crashing",
            "{thing} not responding",
            "{thing} asks for a licence",
            "Cannot install {thing}",
            "{thing} opens read-only",
            "{thing} very slow",
        ],
        "errors": [
            "Microsoft Excel has stopped working.",
            "Unlicensed Product. Most features of Word have been disabled.",
            "The application was unable to start correctly (0xc000007b).",
            "Installation failed with error 0x87D1041C.",
            "This file is locked for editing by another user.",
        ],
        "causes": [
            "A damaged Office installation or a faulty add-in crashes the app on start.",
            "The licence is assigned to a different account than the one signed in.",
            "The installation was started from a download instead of Software Center.",
            "A cached copy of the file is locked by a sync client on another device.",
        ],
        "steps": [
            "Repair Office under {menu} and choose Quick Repair, then Online Repair.",
            "Sign out of {thing} under File > Account and sign in with your work account.",
            "Install {thing} from Software Center; do not download it from the vendor.",
            "Clear the browser cache and cookies for {url}.",
            "Open {thing} in safe mode with the /safe switch to rule out add-ins.",
            "Install version {version} if the current one is known to crash.",
        ],
        "menus": [
            "Settings > Apps > Installed apps > Microsoft 365 > Modify",
            "Edge > Settings > Privacy, search, and services > Clear browsing data",
            "Chrome > Settings > Privacy and security",
        ],
        "typed": [
            "excel crashing",
            "install software",
            "adobe licence",
            "word not responding",
            "read only file",
            "browser slow",
        ],
    },
    "Files and storage": {
        "subs": {
            "OneDrive": ["OneDrive", "OneDrive sync", "Known Folder Move"],
            "SharePoint": ["SharePoint site", "Teams files", "document library"],
            "Network drives": ["network drive", "H: drive", "mapped drive"],
            "Backup and restore": ["deleted file", "previous version", "recycle bin"],
        },
        "symptoms": [
            "{thing} not syncing",
            "{thing} missing",
            "Cannot open {thing}",
            "{thing} shows sync conflict",
            "Restore {thing}",
            "{thing} full",
        ],
        "errors": [
            "OneDrive can't sync. Sync is paused.",
            "The file name is too long. Shorten the path and try again.",
            "Windows cannot access \\\\fileserver\\shared.",
            "You need permission to perform this action.",
            "Upload blocked: the file type is not allowed.",
        ],
        "causes": [
            "The full path is longer than 400 characters, so the file cannot sync.",
            "The drive mapping uses an old server name that was retired.",
            "The file was deleted by a colleague and sits in the site recycle bin.",
            "OneDrive was paused to save battery and never resumed.",
        ],
        "steps": [
            "Click the OneDrive cloud icon and choose Resume syncing.",
            "Shorten folder names so the full path stays under 400 characters.",
            "Reconnect the drive: open {menu} and map \\\\{host}\\shared again.",
            "Restore the file from the recycle bin within {minutes} days of deletion.",
            "Right-click the file and choose Version history to bring back an older copy.",
        ],
        "menus": [
            "File Explorer > This PC > Map network drive",
            "OneDrive > Settings > Account",
            "SharePoint > Site contents > Recycle bin",
        ],
        "typed": [
            "onedrive not syncing",
            "restore deleted file",
            "network drive missing",
            "sharepoint access",
            "file path too long",
            "sync conflict",
        ],
    },
    "Security": {
        "subs": {
            "Phishing": ["phishing email", "suspicious link", "fake invoice"],
            "Antivirus": ["Microsoft Defender", "antivirus", "threat alert"],
            "Encryption": ["BitLocker", "FileVault", "encrypted USB stick"],
            "Lost devices": ["lost laptop", "stolen phone", "lost badge"],
        },
        "symptoms": [
            "Clicked {thing}",
            "{thing} warning",
            "Report {thing}",
            "{thing} blocked a file",
            "{thing} asking for recovery key",
        ],
        "errors": [
            "Threats found. Microsoft Defender Antivirus found threats.",
            "This site has been reported as unsafe.",
            "Enter the recovery key to unlock this drive.",
            "Your IT department has blocked this file.",
        ],
        "causes": [
            "The message came from outside the company and imitates a known supplier.",
            "Defender quarantines files that match a signature or behave like malware.",
            "A firmware or BIOS update changed the measurements BitLocker checks at start.",
            "The device left the building without a locked screen.",
        ],
        "steps": [
            "Do not reply or open attachments; use the Report button in Outlook.",
            "Disconnect from the network if you entered your password on the page.",
            "Change your password at {url} straight away.",
            "Open {menu} and review the quarantined item before you restore it.",
            "Call the service desk on extension {extension} to report a lost device.",
        ],
        "menus": [
            "Windows Security > Virus & threat protection > Protection history",
            "System Settings > Privacy & Security > FileVault",
        ],
        "typed": [
            "phishing email",
            "clicked link",
            "virus warning",
            "lost laptop",
            "bitlocker key",
            "report phishing",
        ],
    },
    "Phones and meetings": {
        "subs": {
            "Teams": ["Microsoft Teams", "Teams meeting", "Teams chat"],
            "Audio and video": ["headset", "webcam", "microphone", "speakers"],
            "Meeting rooms": ["meeting room screen", "room system", "conference phone"],
            "Desk phones": ["desk phone", "voicemail", "softphone"],
        },
        "symptoms": [
            "{thing} not working in Teams",
            "Others cannot hear me on {thing}",
            "{thing} no sound",
            "{thing} keeps freezing",
            "Cannot share screen in {thing}",
            "{thing} no dial tone",
        ],
        "errors": [
            "We couldn't connect the call.",
            "Your camera is being used by another app.",
            "No audio device detected.",
            "Screen sharing is disabled by your organisation.",
            "Sorry, we couldn't connect you. Try again later.",
        ],
        "causes": [
            "Another app holds the camera or microphone exclusively.",
            "Teams picked the laptop speakers instead of the headset after a dock change.",
            "The Teams cache holds a corrupt settings file.",
            "Screen recording permission is missing on macOS.",
        ],
        "steps": [
            "In {thing}, open Settings > Devices and choose the right speaker and microphone.",
            "Quit Teams, delete the cache folder under %appdata%\\Microsoft\\Teams, reopen it.",
            "Allow screen recording under {menu} and restart Teams.",
            "Unplug the headset, wait five seconds, plug it into a different USB port.",
            "Reset the room system from its touch panel and wait {minutes} minutes.",
        ],
        "menus": [
            "System Settings > Privacy & Security > Screen & System Audio Recording",
            "Settings > Privacy & security > Camera",
            "Settings > System > Sound",
        ],
        "typed": [
            "teams no sound",
            "camera not working",
            "cant share screen",
            "headset mic",
            "meeting room screen",
            "voicemail",
        ],
    },
}

GENERIC_SYMPTOMS = [
    "{thing} not working",
    "{thing} stopped working [after an update|after the upgrade|yesterday]",
    "[Error|Problem] when opening {thing}",
]
# [a|b|c] picks one alternative per article, so shared wording does not repeat word for word.
GENERIC_SYMPTOM_LINES = [
    "The problem started {when}.",
    "It happens [in the office|on the office network] and [at home|on home broadband].",
    "[Colleagues|People] sitting nearby [have|report] the same [problem|fault].",
    "[Restarting|A reboot] helps for a few minutes, then the [problem|fault] comes back.",
    "Nothing happens when you click, or the window flashes and closes.",
    "The spinning wheel or hourglass stays for several minutes.",
    "It only happens on [Mondays|the first login of the day|busy afternoons].",
    "The [screen|window] goes grey and shows 'Not Responding' in the title bar.",
    "[It worked|Everything was fine] until {when}.",
    "A colleague with the same [model|setup] does not see it.",
]
WHEN = [
    "after the latest Windows update",
    "after a password change",
    "this morning",
    "after moving desks",
    "after coming back from leave",
    "after the laptop was replaced",
    "after the weekend maintenance window",
    "when the new starter joined",
    "after installing a browser extension",
]
GENERIC_CAUSES = [
    "A recent update left a component half installed until the next full restart.",
    "Cached settings from an earlier version [conflict|clash] with the current one.",
    "The [device|machine] has not checked in with management for more than 30 days.",
    "A security policy changed overnight and the [device|computer] has not applied it yet.",
    "Several [problems|faults] look the same from the outside, so [work|go] through the "
    "steps in order.",
    "Antivirus scanning of a large folder slows everything down for a while.",
    "A duplicate entry in the local cache points at a server that no longer exists.",
]
GENERIC_STEPS = [
    "[Restart|Reboot] the [laptop|computer|PC] and try again; a restart finishes pending updates.",
    "Check the service status page at {url} for a [known outage|current incident] first.",
    "Make sure you are on the latest updates under {menu}.",
    "Sign out completely and sign in again with your [work|company|organisation] account.",
    "Try the same thing on another [device|machine] to see whether the problem follows you.",
    "Note the exact [error message|wording of the message] and the time it appeared; "
    "[screenshots|a photo of the screen] help.",
    "If you see [the code|the number|a reference like] {code}, write it down for the service desk.",
    "Close every other [app|program|window] that might be using {thing}.",
    "Unplug any [USB hubs|adapters|dongles] you do not need and test again.",
    "Clear the temporary files with Disk Cleanup, then restart once more.",
    "Check that the date, time and time zone are right; certificates fail when they are not.",
]
LAST_STEP = "If none of this helps, raise an incident in Firstfix and say which step failed."
MORE_HELP = [
    "Ask in the IT help channel in Teams; the service desk answers within {minutes} minutes.",
    "Related: see the article on keeping {thing} up to date.",
    "For urgent problems outside office hours call extension {extension}.",
    "Service desk hours are 07:00 to 19:00 on working days.",
    "[Walk-up|Tech bar] support is on the second floor, Tuesday and Thursday mornings.",
]
SUMMARY_ENDINGS = [
    "or follow the steps to get going again.",
    "then work down the list if that is not enough.",
    "which fixes it for most people.",
    "and raise an incident if it still fails.",
]
PLATFORMS = [
    "Windows 11 laptops",
    "Windows 10 desktops",
    "MacBooks on macOS 14 and later",
    "iPhone and iPad on iOS 17 and later",
    "Android 13 and 14 phones",
    "Citrix and Azure virtual desktops",
    "Company-managed devices only",
    "Personal devices enrolled in Intune",
    "Office and home working",
]
QUALIFIERS = ["", "", "", " after update", " on Windows 11", " on Mac", " when working from home"]
HOSTS = ["print-srv-02", "fs01.corp.example.com", "vpn-eu.example.com", "rds-gw-03", "dc-lon-1"]
URLS = [
    "https://aka.example.com/sspr",
    "https://status.example.com",
    "https://portal.office.com",
    "https://myaccount.example.com",
    "https://intranet.example.com/it",
]

_TYPED_EXTRAS = ["error", "help", "how to", "after update", "on mac", "at home", "again"]
_KEYBOARD = "qwertyuiopasdfghjklzxcvbnm"


# -- a wide vocabulary: the named things a large library is about ------------------------
# A library of thousands of articles is not thousands of rewordings of a few hundred
# problems: it covers many named systems, devices, sites and rooms, and people name them
# when they search ("harvoc portal password expired"). With ``vocabulary="wide"`` every
# article is about one such named item (about four articles per item) and most queries name
# one, so a query matches a realistic share of the library instead of a third of it.

_ONSETS = ["b", "br", "c", "d", "dr", "f", "g", "gr", "h", "k", "l", "m", "n", "p", "qu", "r"]
_ONSETS += ["s", "st", "t", "tr", "v", "w", "z", "ch", "sh", "th"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "y", "io"]
_CODAS = ["", "", "n", "r", "l", "x", "s", "m", "nd", "rk", "st"]
_VENDORS = ["Kyocera", "Brother", "Xerox", "Ricoh", "Lexmark", "Epson", "Dell", "Lenovo", "HP"]
_VENDORS += ["Samsung", "Fujitsu", "Toshiba", "Zebra", "Poly", "Jabra", "Logitech", "Yealink"]
ITEM_KINDS: dict[str, list[str]] = {
    "Accounts and passwords": ["{Name} portal", "{Name} HR system", "{Name} finance system"],
    "Multi-factor authentication": ["{Name} sign-in", "{Name} partner portal"],
    "Email and calendar": ["{Name} shared mailbox", "{Name} room calendar", "{Name} team list"],
    "Printing and scanning": ["{Vendor} {Model} printer", "{Vendor} {Model} scanner"],
    "Network and Wi-Fi": ["{Name} House Wi-Fi", "{Name} floor {floor} network"],
    "VPN and remote access": ["{Name} gateway", "{Name} remote desktop pool"],
    "Laptops and desktops": ["{Vendor} {Model} laptop", "{Vendor} {Model} dock"],
    "Mobile devices": ["{Name} app", "{Vendor} {Model} phone"],
    "Software and apps": ["{Name} {major}", "{Name} add-in", "{Name} client"],
    "Files and storage": ["{Name} team site", "{Name} share", "{Name} archive"],
    "Security": ["{Name} alert", "{Name} certificate", "{Name} agent"],
    "Phones and meetings": ["{Name} meeting room", "{Vendor} {Model} headset"],
}
ITEM_LINES = [
    "{item} is looked after by the {team} team, who post planned changes on the intranet.",
    "Version {version} of {item} changed [the sign-in screen|where settings live|its menus].",
    "Logs for {item} are kept under C:\\ProgramData\\{name}\\logs for a week.",
    "{item} is used at the {site} office and by people working from home.",
    "The {team} team owns {item}; name it in the incident so it reaches them at once.",
]


def _name(rng: random.Random) -> str:
    parts = [rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(rng.choice([2, 2, 3]))]
    return ("".join(parts) + rng.choice(_CODAS)).capitalize()


def _model(rng: random.Random) -> str:
    letters = "".join(rng.choice("ABCDEFGHKLMPRSTVXZ") for _ in range(rng.choice([1, 2])))
    return f"{letters}{rng.randrange(100, 9999)}{rng.choice(['', '', 'i', 'dn', 'x', 'ci'])}"


@dataclass
class Item:
    category: str
    name: str  # as written in articles, e.g. "Trelvo portal"
    words: list[str]  # what people type of it, e.g. ["trelvo"]


def inventory(rng: random.Random, size: int) -> dict[str, list[Item]]:
    """``size`` named items spread over the categories (names are unique)."""
    seen: set[str] = set()
    items: dict[str, list[Item]] = {name: [] for name in CATALOGUE}
    while sum(map(len, items.values())) < size:
        category = rng.choice(list(CATALOGUE))
        kind = rng.choice(ITEM_KINDS[category])
        proper = _name(rng)
        model = _model(rng)
        name = kind.format(
            Name=proper,
            Vendor=rng.choice(_VENDORS),
            Model=model,
            floor=rng.randint(1, 12),
            major=rng.randint(2, 12),
        )
        if name in seen:
            continue
        seen.add(name)
        typed = [proper.lower()] if "{Name}" in kind else [model.lower()]
        items[category].append(Item(category, name, typed))
    return items


# -- articles ------------------------------------------------------------------------------


@dataclass
class Generated:
    slug: str
    title: str
    summary: str
    body_md: str
    category: str
    subcategory: str
    tags: list[str]
    visibility: str


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:100] or "item"


def categories() -> list[tuple[str, list[str]]]:
    return [(name, list(spec["subs"])) for name, spec in CATALOGUE.items()]


def _code(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.5:
        return f"0x{rng.choice(['8007', '8004', '800C', 'C000', '87D1'])}{rng.randrange(16**4):04X}"
    if kind < 0.8:
        return f"{rng.randrange(100, 9999)}"
    return f"KB{rng.randrange(5000000, 5060000)}"


_CHOICE = re.compile(r"\[([^\[\]|]*(?:\|[^\[\]|]*)+)\]")


def _fill(template: str, ctx: dict[str, str], rng: random.Random | None = None) -> str:
    """Fill the {placeholders}; with rng, also pick one alternative of every [a|b]."""
    if rng is not None:
        template = _CHOICE.sub(lambda m: rng.choice(m.group(1).split("|")), template)
    return template.format(**ctx)


def article(
    rng: random.Random, number: int, items: dict[str, list[Item]] | None = None
) -> Generated:
    """One article; ``number`` only makes the slug unique. With ``items`` (see
    ``inventory``) the article is about one named item of its category."""
    category = rng.choice(list(CATALOGUE))
    spec = CATALOGUE[category]
    sub = rng.choice(list(spec["subs"]))
    thing = rng.choice(spec["subs"][sub])
    item = rng.choice(items[category]) if items and items[category] else None
    if item is not None:
        thing = f"{item.name} {thing}"
    ctx = {
        "thing": thing,
        "menu": rng.choice(spec["menus"]),
        "host": rng.choice(HOSTS),
        "url": rng.choice(URLS),
        "code": _code(rng),
        "version": f"{rng.randint(4, 24)}.{rng.randint(0, 9)}.{rng.randint(0, 99)}",
        "minutes": str(rng.choice([5, 10, 15, 30, 60])),
        "extension": str(rng.randint(2000, 2999)),
        "when": rng.choice(WHEN),
    }
    if item is not None:
        ctx |= {
            "item": item.name,
            "name": item.name.split()[0],
            "team": _name(rng),
            "site": _name(rng),
        }
    symptom = rng.choice(spec["symptoms"] + GENERIC_SYMPTOMS)
    title = _fill(symptom, ctx, rng) + rng.choice(QUALIFIERS)
    title = title[0].upper() + title[1:]
    error = rng.choice(spec["errors"])
    steps_pool = spec["steps"] + GENERIC_STEPS
    causes_pool = spec["causes"] + GENERIC_CAUSES

    symptom_lines = [
        f'You see "{error}"',
        f"{title}.",
    ]
    if rng.random() < 0.6:
        symptom_lines.append(_fill(rng.choice(GENERIC_SYMPTOM_LINES), ctx, rng))
    typed = rng.sample(spec["typed"], k=min(3, len(spec["typed"])))
    symptom_lines.append("People say " + ", ".join(f'"{t}"' for t in typed) + ".")
    if rng.random() < 0.5:
        other = rng.choice([e for e in spec["errors"] if e != error])
        symptom_lines.append(
            _fill(f'Sometimes the message is "{other}" [with code|({{code}})|].', ctx, rng)
        )
    applies = rng.sample(PLATFORMS, k=rng.randint(2, 3))
    causes = [*rng.sample(spec["causes"], k=2)]
    if item is not None:
        causes += rng.sample(ITEM_LINES, k=2)
    steps = [*rng.sample(spec["steps"], k=4), rng.choice(GENERIC_STEPS)]
    rng.shuffle(steps)
    filled: dict[str, str] = {}

    def fill(template: str) -> str:
        if template not in filled:
            filled[template] = _fill(template, ctx, rng)
        return filled[template]

    more: list[str] = []
    target = rng.randint(250, 385)

    def body() -> str:
        parts = ["## Symptoms", "", *(f"- {line}" for line in symptom_lines), ""]
        parts += ["## Applies to", "", *(f"- {p}" for p in applies), ""]
        parts += ["## Cause", "", " ".join(fill(c) for c in causes), ""]
        parts += ["## Resolution", ""]
        parts += [f"{i}. {fill(step)}" for i, step in enumerate([*steps, LAST_STEP], 1)]
        if more:
            parts += ["", "## More help", "", *(f"- {fill(m)}" for m in more)]
        return "\n".join(parts) + "\n"

    text = body()
    for _ in range(40):  # grow towards the target length; bounded
        if len(text.split()) >= target:
            break
        spare_steps = [s for s in steps_pool if s not in steps]
        spare_causes = [c for c in causes_pool if c not in causes]
        roll = rng.random()
        if roll < 0.5 and spare_steps and len(steps) < 14:
            steps.insert(rng.randint(0, len(steps)), rng.choice(spare_steps))
        elif roll < 0.7 and spare_causes and len(causes) < (7 if item else 5):
            causes.append(rng.choice(spare_causes))
        elif roll < 0.85 and len(more) < len(MORE_HELP):
            more.append(rng.choice([m for m in MORE_HELP if m not in more]))
        else:
            symptom_lines.insert(-1, _fill(rng.choice(GENERIC_SYMPTOM_LINES), ctx, rng))
        text = body()

    fix = fill(rng.choice(spec["steps"])).rstrip(".")
    summary = f"{title}. {fix[0].upper()}{fix[1:]}, {rng.choice(SUMMARY_ENDINGS)}"
    tags = list(dict.fromkeys([slugify(thing), slugify(sub), *(slugify(t) for t in typed[:2])]))
    if item is not None:
        tags = [slugify(item.name), *tags]
    return Generated(
        slug=f"{slugify(title)}-{number}",
        title=title[:200],
        summary=summary,
        body_md=text,
        category=category,
        subcategory=sub,
        tags=tags[:4],
        visibility="staff" if rng.random() < 0.05 else "everyone",
    )


# -- queries -------------------------------------------------------------------------------


@dataclass
class Query:
    text: str
    kind: str  # plain, typo, phrase, prefix
    category: str | None = None  # a top-level category name to filter on, or None
    flags: list[str] = field(default_factory=list)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def _typo(rng: random.Random, word: str) -> str:
    i = rng.randint(1, len(word) - 2)
    op = rng.choice(["drop", "swap", "double", "near"])
    if op == "drop":
        return word[:i] + word[i + 1 :]
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == "double":
        return word[:i] + word[i] + word[i:]
    return word[:i] + rng.choice(_KEYBOARD) + word[i + 1 :]


def query(rng: random.Random, items: dict[str, list[Item]] | None = None) -> Query:
    """One query as people type it: 1 to 5 words, sometimes a typo, a phrase or a prefix.
    With ``items``, seven queries in ten name an item of the library."""
    category = rng.choice(list(CATALOGUE))
    spec = CATALOGUE[category]
    thing = rng.choice(spec["subs"][rng.choice(list(spec["subs"]))])
    typed = rng.choice(spec["typed"])
    thing_words, typed_words = _words(thing), _words(typed)
    if items and items[category] and rng.random() < 0.7:
        thing_words = [*rng.choice(items[category]).words, *thing_words]
    if rng.random() < 0.15:
        typed_words += _words(rng.choice(_TYPED_EXTRAS))
    size = rng.choices([1, 2, 3, 4, 5], weights=[15, 30, 28, 17, 10])[0]
    roll = rng.random()
    kind = (
        "typo" if roll < 0.15 else "phrase" if roll < 0.27 else "prefix" if roll < 0.37 else "plain"
    )
    if kind == "phrase":
        source = thing_words if len(thing_words) > 1 else typed_words
        if len(source) < 2:
            source = typed_words if len(typed_words) > 1 else ["not", "working"]
        phrase = source[:3]
        rest = [w for w in (typed_words + thing_words) if w not in phrase]
        extra = rest[: max(0, size - len(phrase))]
        parts = [f'"{" ".join(phrase)}"', *extra]
        if rng.random() < 0.5:
            parts.reverse()
        text = " ".join(parts)
    else:
        pool = list(dict.fromkeys(thing_words + typed_words))
        if rng.random() < 0.3:
            pool = list(dict.fromkeys(typed_words + thing_words))
        chosen = pool[:size]
        if kind == "typo":
            long = [i for i, w in enumerate(chosen) if len(w) >= 4 and w.isalpha()]
            if long:
                i = rng.choice(long)
                chosen[i] = _typo(rng, chosen[i])
            else:
                kind = "plain"
        elif kind == "prefix":
            long = [i for i, w in enumerate(chosen) if len(w) >= 5 and w.isalpha()]
            if long:
                i = rng.choice(long)
                chosen[i] = chosen[i][: rng.randint(3, min(5, len(chosen[i]) - 1))] + "*"
            else:
                kind = "plain"
        text = " ".join(chosen)
    cat = category if rng.random() < 0.12 else None
    return Query(text=text, kind=kind, category=cat)


def queries(
    rng: random.Random, count: int, items: dict[str, list[Item]] | None = None
) -> list[Query]:
    return [query(rng, items) for _ in range(count)]


def library(
    rng: random.Random, count: int, vocabulary: str = "wide"
) -> tuple[list[Generated], dict[str, list[Item]] | None]:
    """``count`` articles and, for the wide vocabulary, the named items they are about
    (pass them to ``queries``). "narrow" is the first generator: a few hundred problems
    reworded, where a median query matches about a tenth of the library."""
    if vocabulary not in ("wide", "narrow"):
        raise ValueError(f"unknown vocabulary {vocabulary!r}")
    items = library_items(rng, count, vocabulary)
    return [article(rng, i, items) for i in range(count)], items


def library_items(
    rng: random.Random, count: int, vocabulary: str = "wide"
) -> dict[str, list[Item]] | None:
    """The named items ``library`` would draw first from the same rng, without the articles."""
    return inventory(rng, max(24, count // 4)) if vocabulary == "wide" else None
