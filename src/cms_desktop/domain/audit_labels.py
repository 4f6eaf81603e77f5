"""French labels of the audit trail's actions, for the director's journal.

The trail stores stable English codes; the journal shows these words. An action missing
here is shown by its code with spaces, never hidden.
"""

from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    "account_locked": "Compte bloqué",
    "agenda_closure_added": "Fermeture du centre ajoutée",
    "agenda_closure_removed": "Fermeture du centre retirée",
    "agenda_export_ical": "Agenda exporté (iCal)",
    "agenda_settings_changed": "Horaires du centre modifiés",
    "appointment_booked": "Rendez-vous pris",
    "appointment_changed": "Rendez-vous modifié",
    "appointment_moved": "Rendez-vous déplacé",
    "appointment_type_changed": "Type de rendez-vous modifié",
    "audit_exported": "Journal exporté",
    "bdpm_import": "Base des médicaments importée",
    "centre_created": "Centre créé",
    "clinical_record_opened": "Dossier médical ouvert",
    "consultation_amended": "Consultation corrigée",
    "consultation_signed": "Consultation signée",
    "demo_clinical_added": "Données de démonstration ajoutées",
    "demo_patients_added": "Patients de démonstration ajoutés",
    "document_imported": "Document importé",
    "document_viewed": "Document consulté",
    "document_withdrawn": "Document retiré",
    "export": "Export (PDF enregistré)",
    "login": "Connexion",
    "login_refused_disabled": "Connexion refusée (compte désactivé)",
    "logout": "Déconnexion",
    "no_known_allergy_stated": "« Aucune allergie connue » déclaré",
    "no_known_allergy_withdrawn": "« Aucune allergie connue » retiré",
    "password_recovered": "Accès récupéré (code de récupération)",
    "password_reset": "Mot de passe réinitialisé",
    "patient_created": "Patient créé",
    "patient_merged": "Dossiers fusionnés",
    "patient_updated": "Identité modifiée",
    "patients_imported": "Patients importés",
    "practitioner_absence_added": "Absence de praticien ajoutée",
    "practitioner_created": "Praticien créé",
    "practitioner_range_added": "Plage de consultation ajoutée",
    "print": "Impression",
    "print_appointment_card": "Carte de rendez-vous imprimée",
    "print_day_list": "Liste du jour imprimée",
    "record_access_delivered": "Copie du dossier remise",
    "record_access_fee": "Frais de copie enregistrés",
    "record_access_registered": "Demande de copie du dossier enregistrée",
    "screen_locked": "Écran verrouillé",
    "sync_conflict_resolved": "Conflit de synchronisation résolu",
    "sync_pairing_code_shown": "Code d'appairage affiché",
    "sync_station_removed": "Poste retiré de la synchronisation",
    "synthesis_entry_added": "Synthèse : élément ajouté",
    "synthesis_entry_ended": "Synthèse : élément clos",
    "synthesis_entry_removed": "Synthèse : élément retiré",
    "synthesis_entry_updated": "Synthèse : élément modifié",
    "unlock": "Écran déverrouillé",
    "unlock_failed": "Déverrouillage refusé",
    "user_created": "Compte créé",
    "user_enabled": "Compte activé ou désactivé",
    "user_role_changed": "Rôle modifié",
    "waiting_list_converted": "Liste d'attente : rendez-vous donné",
    "waiting_list_priority": "Liste d'attente : priorité modifiée",
    "waiting_list_registered": "Liste d'attente : inscription",
    "waiting_list_status": "Liste d'attente : statut modifié",
}

TARGET_LABELS: dict[str, str] = {
    "appointment": "Rendez-vous",
    "consultation": "Consultation",
    "document": "Document",
    "prescription": "Ordonnance",
    "record_access_request": "Demande de copie",
    "record_copy": "Copie du dossier",
    "synthesis_entry": "Élément de synthèse",
    "user": "Compte",
    "practitioner": "Praticien",
}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action.replace("_", " "))


def target_label(target_type: str) -> str:
    return TARGET_LABELS.get(target_type, target_type.replace("_", " "))
