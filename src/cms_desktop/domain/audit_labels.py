"""French labels of the audit trail's actions, for the director's journal.

The trail stores stable English codes; the journal shows these words. An action missing
here is shown by its code with spaces, never hidden.
"""

from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    "account_locked": "Compte verrouillé",
    "agenda_closure_added": "Ajout d'une fermeture du centre",
    "agenda_closure_removed": "Suppression d'une fermeture du centre",
    "agenda_export_ical": "Agenda exporté (iCal)",
    "agenda_settings_changed": "Modification des horaires du centre",
    "appointment_booked": "Rendez-vous pris",
    "appointment_cancelled": "Rendez-vous annulé",
    "appointment_changed": "Modification d'un rendez-vous",
    "appointment_moved": "Rendez-vous déplacé",
    "appointment_type_changed": "Modification d'un type de rendez-vous",
    "audit_exported": "Journal exporté",
    "bdpm_import": "Base des médicaments importée",
    "centre_created": "Installation du centre",
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
    "login_failed": "Échec de connexion",
    "login_refused_disabled": "Connexion refusée (compte désactivé)",
    "login_refused_locked": "Connexion refusée (compte verrouillé)",
    "logout": "Déconnexion",
    "no_known_allergy_stated": "« Aucune allergie connue » déclaré",
    "no_known_allergy_withdrawn": "« Aucune allergie connue » retiré",
    "password_recovered": "Récupération d'accès (code)",
    "password_reset": "Réinitialisation de mot de passe",
    "patient_arrived": "Patient arrivé (salle d'attente)",
    "patient_called_in": "Patient appelé en consultation",
    "patient_created": "Patient créé",
    "patient_merged": "Dossiers fusionnés",
    "patient_no_show": "Patient absent au rendez-vous",
    "patient_seen": "Patient vu (consultation terminée)",
    "patient_updated": "Identité modifiée",
    "patients_imported": "Patients importés",
    "practitioner_absence_added": "Ajout d'une absence de praticien",
    "practitioner_absence_removed": "Suppression d'une absence de praticien",
    "practitioner_activated": "Praticien réactivé",
    "practitioner_created": "Praticien créé",
    "practitioner_disabled": "Praticien désactivé",
    "practitioner_range_added": "Ajout d'une plage de consultation",
    "practitioner_range_removed": "Suppression d'une plage de consultation",
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
    "unlock": "Déverrouillage",
    "unlock_failed": "Échec de déverrouillage",
    "user_created": "Création d'un compte",
    "user_disabled": "Désactivation d'un compte",
    "user_enabled": "Réactivation d'un compte",
    "user_role_changed": "Changement de rôle",
    "waiting_list_converted": "Liste d'attente : rendez-vous donné",
    "waiting_list_priority": "Liste d'attente : priorité modifiée",
    "waiting_list_registered": "Liste d'attente : inscription",
    "waiting_list_status": "Liste d'attente : statut modifié",
}

TARGET_LABELS: dict[str, str] = {
    "agenda_closure": "Fermeture",
    "agenda_settings": "Horaires",
    "patient": "Dossier",
    "record_request": "Demande de dossier",
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
