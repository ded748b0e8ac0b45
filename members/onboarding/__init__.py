"""Four-layer onboarding (四层沉淀): reps, the service group, the self-introduction, the big group."""
