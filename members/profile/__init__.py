"""The member profile: nickname and avatar, the self-introduction and the house nickname ("me")."""
